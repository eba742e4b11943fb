# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelaySpool.TestSupport.ps1')
}

Describe 'Reset-RelayBadMessage' {
    BeforeEach { $spool = New-RelayTestSpool }
    AfterEach { Remove-Item -LiteralPath $spool -Recurse -Force }

    It 'skips a message whose Reason count reaches -MaxRetries, and says so verbosely' {
        $verbose = Get-RelaySpool -SpoolPath $spool -State Bad | Reset-RelayBadMessage -MaxRetries 2 -Verbose 4>&1

        Test-Path (Join-Path $spool "$badId.envelope.bad") | Should -BeTrue
        "$verbose" | Should -Match ([regex]::Escape($badId) + '.*2 times')
    }

    It 'resets a message below -MaxRetries and keeps its reasons' {
        $reset = Get-RelaySpool -SpoolPath $spool -State Bad | Reset-RelayBadMessage -MaxRetries 3 -PassThru

        $reset.State | Should -Be 'Ready'
        $reset.RetryCount | Should -Be 2
        Test-Path (Join-Path $spool "$badId.envelope") | Should -BeTrue
    }

    It 'resets every Bad message of the spool when given none' {
        Reset-RelayBadMessage -SpoolPath $spool

        Get-RelaySpool -SpoolPath $spool -State Bad | Should -BeNullOrEmpty
    }

    It 'leaves the message Bad with -WhatIf' {
        Reset-RelayBadMessage -Id $badId -SpoolPath $spool -WhatIf

        (Get-RelaySpool -SpoolPath $spool -Id $badId).State | Should -Be 'Bad'
    }

    It 'rejects -MaxRetries 0' {
        { Reset-RelayBadMessage -SpoolPath $spool -MaxRetries 0 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,RelayCmdlets.ResetRelayBadMessageCommand'
    }

    It 'has help with a synopsis and at least two examples, each explained' {
        Assert-RelayHelp Reset-RelayBadMessage
    }
}
