# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayForward.TestSupport.ps1')
    $forwardId = 'RelayCmdlets.InvokeRelayForwardCommand'
}

Describe 'Invoke-RelayForward' {
    BeforeEach {
        $spool = New-RelayForwardTestSpool
        $hop = $null
    }

    AfterEach { Stop-RelayTestNextHop $hop }

    It 'forwards only the messages a Where-Object filter passes on' {
        $hop = Start-RelayTestNextHop
        if (-not $hop) { Set-ItResult -Skipped -Because 'aiosmtpd is missing'; return }

        Get-RelaySpool -SpoolPath $spool | Where-Object To -like '*@example.com' | Invoke-RelayForward -To $hop.Address

        @(Get-RelayTestNextHopMessage $hop | ForEach-Object rcpt_tos | Sort-Object) | Should -Be @('one@example.com', 'three@example.com')
        (Get-RelaySpool -SpoolPath $spool).To | Should -Be 'two@example.net'
    }

    It 'writes one Sent result per message with -PassThru' {
        $hop = Start-RelayTestNextHop
        if (-not $hop) { Set-ItResult -Skipped -Because 'aiosmtpd is missing'; return }

        $results = Invoke-RelayForward -To $hop.Address -SpoolPath $spool -PassThru

        $results.Count | Should -Be 3
        $results | ForEach-Object { $_.Outcome.ToString() } | Should -Be @('Sent', 'Sent', 'Sent')
        $results | ForEach-Object ReplyCode | Should -Be @(250, 250, 250)
        Get-RelaySpool -SpoolPath $spool | Should -BeNullOrEmpty
    }

    It 'fails a refused message, sends the rest, then throws ForwardingFailed' {
        $hop = Start-RelayTestNextHop -Option '--rcpt-reply', '550 5.1.1 no such user', '--reject-rcpt', 'two@example.net'
        if (-not $hop) { Set-ItResult -Skipped -Because 'aiosmtpd is missing'; return }

        { Invoke-RelayForward -To $hop.Address -SpoolPath $spool -ErrorVariable perMessage -ErrorAction Continue 2>$null } |
            Should -Throw -ErrorId "ForwardingFailed,$forwardId"

        @(Get-RelayTestNextHopMessage $hop).Count | Should -Be 2
        $bad = Get-RelaySpool -SpoolPath $spool -State Bad
        $bad.To | Should -Be 'two@example.net'
        $bad.ReasonCode | Should -Be 550
    }

    It 'defers every message as a non-terminating error when the next hop is down' {
        $port = Get-RelayTestClosedPort

        Invoke-RelayForward -To "127.0.0.1:$port" -SpoolPath $spool -ErrorVariable deferred -ErrorAction SilentlyContinue

        $deferred.Count | Should -Be 3
        $deferred | ForEach-Object FullyQualifiedErrorId | Select-Object -Unique | Should -Be "RelayMessageDeferred,$forwardId"
        $deferred[0].Exception.Result.Outcome.ToString() | Should -Be 'Deferred'
        @(Get-RelaySpool -SpoolPath $spool -State Ready).Count | Should -Be 3
    }

    It 'sends nothing and changes nothing under -WhatIf' {
        $hop = Start-RelayTestNextHop
        if (-not $hop) { Set-ItResult -Skipped -Because 'aiosmtpd is missing'; return }

        Invoke-RelayForward -To $hop.Address -SpoolPath $spool -WhatIf

        Test-Path (Join-Path $hop.Record 'connections.log') | Should -BeFalse
        @(Get-RelaySpool -SpoolPath $spool -State Ready).Count | Should -Be 3
    }

    It 'refuses a -To that is not a next hop' {
        { Invoke-RelayForward -To 'mail.example.com' -SpoolPath $spool } |
            Should -Throw -ErrorId "CannotConvertArgumentNoMessage,$forwardId"
    }

    It 'refuses -PopServer without -PopBeforeSmtp' {
        { Invoke-RelayForward -To 127.0.0.1:25 -SpoolPath $spool -PopServer 127.0.0.1:110 } |
            Should -Throw -ErrorId "InvalidForwardingParameters,$forwardId"
    }

    It 'has help with a synopsis and at least two examples, each explained' {
        Assert-RelayHelp Invoke-RelayForward
    }
}
