# Shared by the server cmdlets' Pester files; dot-source it in BeforeAll.

function Import-RelayTestModule {
    # build.ps1 points RELAY_MODULE_PATH at the built module; a developer's run falls back to out/.
    $path = if ($env:RELAY_MODULE_PATH) { $env:RELAY_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/Relay/Relay.psd1' }
    Import-Module $path -Force -ErrorAction Stop
    (Resolve-Path $path).Path
}

function New-RelayTestServerName {
    # The server list is process-wide: a fresh name keeps tests apart (short enough for the table's Name column).
    'ps-' + [guid]::NewGuid().ToString('N').Substring(0, 12)
}

function Stop-RelayTestServer([string] $Name) {
    # Servers outlive the test that started them (the list is process-wide): stop this test's.
    Get-RelayServer -Name "$Name*" | Stop-RelayServer -Confirm:$false
}

function Assert-RelayHelp([string] $Command) {
    $help = Get-Help $Command -Full
    $help.Synopsis | Should -Not -BeNullOrEmpty
    @($help.examples.example).Count | Should -BeGreaterOrEqual 2
}

function Test-SwaksPresent {
    # Missing peers fail under CI (RELAY_REQUIRE_PEERS=1) and skip loudly otherwise.
    if (Get-Command swaks -ErrorAction SilentlyContinue) { return $true }
    if ($env:RELAY_REQUIRE_PEERS -eq '1') { throw 'PEER MISSING: swaks is not installed.' }
    Write-Warning 'PEER MISSING: swaks is not installed; this test did NOT run.'
    $false
}

function Send-SwaksMessage([int] $Port) {
    $transcript = swaks --server 127.0.0.1 --port $Port --from alice@example.com --to bob@example.net --timeout 10 2>&1
    if ($LASTEXITCODE -ne 0) { throw "swaks failed ($LASTEXITCODE): $($transcript -join "`n")" }
}
