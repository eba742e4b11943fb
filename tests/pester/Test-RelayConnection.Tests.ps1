# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayForward.TestSupport.ps1')
    $testId = 'RelayCmdlets.TestRelayConnectionCommand'
}

Describe 'Test-RelayConnection' {
    BeforeEach { $hop = $null }

    AfterEach { Stop-RelayTestNextHop $hop }

    It 'reports a plain next hop reached through greeting and EHLO' {
        $hop = Start-RelayTestNextHop
        if (-not $hop) { Set-ItResult -Skipped -Because 'aiosmtpd is missing'; return }

        $result = Test-RelayConnection -To $hop.Address

        $result.Succeeded | Should -BeTrue
        $result.IsSecure | Should -BeFalse
        $result.Steps | Where-Object { "$($_.Step)" -eq 'Ehlo' } | ForEach-Object { "$($_.Outcome)" } | Should -Be 'Succeeded'
        @(Get-RelayTestNextHopMessage $hop).Count | Should -Be 0
    }

    It 'reports where it failed, without an error, when nothing listens' {
        $port = Get-RelayTestClosedPort

        $result = Test-RelayConnection -To "127.0.0.1:$port" -ErrorVariable problems

        $problems | Should -BeNullOrEmpty
        $result.Succeeded | Should -BeFalse
        "$($result.FailedStep)" | Should -Be 'Connect'
    }

    It 'probes each next hop piped to it' {
        $ports = (Get-RelayTestClosedPort), (Get-RelayTestClosedPort)

        $results = $ports | ForEach-Object { "127.0.0.1:$_" } | Test-RelayConnection

        $results.Count | Should -Be 2
        $results.NextHop | Should -Be ($ports | ForEach-Object { "127.0.0.1:$_" })
    }

    It 'refuses -Apop without -PopBeforeSmtp' {
        { Test-RelayConnection -To 127.0.0.1:25 -Apop } | Should -Throw -ErrorId "InvalidForwardingParameters,$testId"
    }

    It 'has help with a synopsis and at least two examples, each explained' {
        Assert-RelayHelp Test-RelayConnection
    }
}
