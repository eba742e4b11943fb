# Shared by every Pester file through RelaySpool.TestSupport.ps1 or RelayServer.TestSupport.ps1:
# dot-sourcing it in BeforeAll imports the built module and sets $modulePath.

function Import-RelayTestModule {
    # build.ps1 points RELAY_MODULE_PATH at the built module; a developer's run falls back to out/.
    $path = if ($env:RELAY_MODULE_PATH) { $env:RELAY_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/Relay/Relay.psd1' }
    Import-Module $path -Force -ErrorAction Stop
    (Resolve-Path $path).Path
}

function Assert-RelayHelp([string] $Command) {
    $help = Get-Help $Command -Full
    $help.Synopsis | Should -Not -BeNullOrEmpty
    $examples = @($help.examples.example)
    $examples.Count | Should -BeGreaterOrEqual 2
    # platyPS 0.14 drops prose written before an example's first code block, leaving the example unexplained.
    foreach ($example in $examples) {
        ($example.remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "$Command $($example.title.Trim(' -')) needs its explanation"
    }
}

$modulePath = Import-RelayTestModule
