# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    $modulePath = if ($env:RELAY_MODULE_PATH) { $env:RELAY_MODULE_PATH } else { "$PSScriptRoot/../../out/Relay/Relay.psd1" }
    Import-Module $modulePath -Force -ErrorAction Stop
    # The spool E-MailRelay 2.6b wrote, as the repository keeps it for the engine tests.
    $testData = "$PSScriptRoot/../RelayCore.Tests/Spool/TestData/emailrelay-2.6b"
    $badId = 'emailrelay.32054.1795422460.1'
}

Describe 'Reset-RelayBadMessage' {
    BeforeEach {
        $spool = Join-Path $TestDrive 'spool'
        New-Item -ItemType Directory -Path $spool | Out-Null
        Copy-Item -Path "$testData/emailrelay.*" -Destination $spool
    }

    AfterEach {
        Remove-Item -LiteralPath $spool -Recurse -Force
    }

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
}
