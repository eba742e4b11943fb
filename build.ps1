<#
.SYNOPSIS
    Builds, tests, documents and packages the Relay module.
.DESCRIPTION
    Tasks:
      Build      dotnet build; lays the module out in out/Relay.
      Test       dotnet test (every xunit layer), then the Pester tests.
      Pester     the Pester tests in tests/pester only, against out/Relay.
      Docs       docs/help/*.md -> module/en-US (MAML and about_ help) with platyPS.
      CheckDocs  regenerates the help into a temporary folder and fails if module/en-US differs.
      Package    a Release build of the module folder in out/Relay.
.EXAMPLE
    ./build.ps1 -Task Build, Test
.EXAMPLE
    ./build.ps1 -Task Docs
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Pester', 'Docs', 'CheckDocs', 'Package')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',

    # Skip the dotnet build before the Pester tests (CI has just built).
    [switch] $NoBuild,

    # Write "passed failed skipped" of the Pester run to this file.
    [string] $CiSummary
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = $PSScriptRoot
$moduleDir = Join-Path $root 'out/Relay'
$helpSource = Join-Path $root 'docs/help'
$helpTarget = Join-Path $root 'module/en-US'

function Invoke-DotNet {
    param([Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments -join ' ') failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    Invoke-DotNet build (Join-Path $root 'Relay.slnx') -c $Configuration
}

function Invoke-PesterTests {
    if (-not $NoBuild) { Invoke-Build }
    Import-Module Pester -MinimumVersion 5.0 -ErrorAction Stop
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests/pester'
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputPath = Join-Path $root 'out/pester-results.xml'
    $env:RELAY_MODULE_PATH = Join-Path $moduleDir 'Relay.psd1'
    $result = Invoke-Pester -Configuration $config
    if ($CiSummary) {
        "$($result.PassedCount) $($result.FailedCount) $($result.SkippedCount)" | Set-Content -Path $CiSummary -Encoding ascii
    }
    if ($result.FailedCount -gt 0 -or $result.Result -ne 'Passed') {
        throw "Pester: $($result.FailedCount) failed of $($result.TotalCount)."
    }
}

function New-HelpFiles([string] $OutputPath) {
    Import-Module platyPS -ErrorAction Stop
    $null = New-ExternalHelp -Path $helpSource -OutputPath $OutputPath -Force
}

function Test-HelpFiles {
    $fresh = Join-Path ([System.IO.Path]::GetTempPath()) ("relay-help-" + [guid]::NewGuid())
    try {
        New-HelpFiles $fresh
        $differences = @()
        $names = @(Get-ChildItem $fresh -File) + @(Get-ChildItem $helpTarget -File) | ForEach-Object Name | Sort-Object -Unique
        foreach ($name in $names) {
            $a = Join-Path $fresh $name
            $b = Join-Path $helpTarget $name
            if (-not (Test-Path $a) -or -not (Test-Path $b) -or
                (Get-FileHash $a).Hash -ne (Get-FileHash $b).Hash) {
                $differences += $name
            }
        }
        if ($differences) {
            throw "module/en-US is out of date with docs/help ($($differences -join ', ')): run ./build.ps1 -Task Docs and commit the result."
        }
        Write-Host 'Help: module/en-US matches docs/help.'
    }
    finally {
        Remove-Item $fresh -Recurse -Force -ErrorAction SilentlyContinue
    }
}

foreach ($step in $Task) {
    Write-Host "== $step"
    switch ($step) {
        'Build' { Invoke-Build }
        'Test' {
            Invoke-DotNet test (Join-Path $root 'Relay.slnx') -c $Configuration
            $NoBuild = $true
            Invoke-PesterTests
        }
        'Pester' { Invoke-PesterTests }
        'Docs' { New-HelpFiles $helpTarget }
        'CheckDocs' { Test-HelpFiles }
        'Package' {
            $Configuration = 'Release'
            Invoke-Build
            Write-Host "Module: $moduleDir"
        }
    }
}
