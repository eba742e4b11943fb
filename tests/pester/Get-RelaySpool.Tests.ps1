# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelaySpool.TestSupport.ps1')
}

Describe 'Get-RelaySpool' {
    BeforeEach { $spool = New-RelayTestSpool }
    AfterEach { Remove-Item -LiteralPath $spool -Recurse -Force }

    It 'emits one RelayMessage per message of a spool E-MailRelay wrote' {
        $messages = Get-RelaySpool -SpoolPath $spool

        $messages | Should -HaveCount 6
        $messages[0].GetType().FullName | Should -Be 'RelayCore.Spool.RelayMessage'
        ($messages | Where-Object State -EQ 'Bad').Id | Should -Be $badId
    }

    It 'reads the reasons of a failed message' {
        $message = Get-RelaySpool -SpoolPath $spool -State Bad

        $message.RetryCount | Should -Be 2
        $message.Reason | Should -Be 'one or more recipients rejected'
    }

    It 'matches ids with wildcards' {
        $ids = (Get-RelaySpool -SpoolPath $spool -Id 'emailrelay.32046.*').Id

        $ids | Should -HaveCount 4
    }

    It 'resolves a relative -SpoolPath against the current location' {
        Push-Location $TestDrive
        try {
            $messages = Get-RelaySpool -SpoolPath 'spool' -State Bad
        }
        finally {
            Pop-Location
        }

        $messages.SpoolPath | Should -Be (Resolve-Path $spool).ProviderPath
    }

    It 'writes a non-terminating RelayMessageNotFound for an exact id that matches nothing' {
        $found = Get-RelaySpool -SpoolPath $spool -Id 'emailrelay.1.2.3', $badId -ErrorVariable notFound -ErrorAction SilentlyContinue

        $found.Id | Should -Be $badId
        $notFound.FullyQualifiedErrorId | Should -Be 'RelayMessageNotFound,RelayCmdlets.GetRelaySpoolCommand'
        $notFound.TargetObject | Should -Be 'emailrelay.1.2.3'
    }

    It 'stops with SpoolNotFound when the spool does not exist' {
        { Get-RelaySpool -SpoolPath (Join-Path $TestDrive 'missing') } |
            Should -Throw -ErrorId 'SpoolNotFound,RelayCmdlets.GetRelaySpoolCommand'
    }

    It 'rejects an empty -Id' {
        { Get-RelaySpool -SpoolPath $spool -Id '' } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,RelayCmdlets.GetRelaySpoolCommand'
    }

    It 'shows the default table within 120 columns' {
        $lines = Get-RelaySpool -SpoolPath $spool | Out-String -Width 120 -Stream | Where-Object { $_ }

        $lines[0] -split '\s+' | Should -Be @('Id', 'State', 'Received', 'From', 'To', 'Size', 'Reason')
        $lines | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 120 }
    }

    It 'has help with a synopsis and at least two examples, each explained' {
        Assert-RelayHelp Get-RelaySpool

        (Get-Help Get-RelaySpool).Synopsis | Should -Be 'Gets the messages in a Relay or E-MailRelay spool directory.'
    }
}
