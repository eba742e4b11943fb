# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelaySpool.TestSupport.ps1')
}

Describe 'Remove-RelayMessage' {
    BeforeEach { $spool = New-RelayTestSpool }
    AfterEach { Remove-Item -LiteralPath $spool -Recurse -Force }

    It 'removes nothing with -WhatIf' {
        Get-RelaySpool -SpoolPath $spool | Where-Object AuthenticatedAs -EQ 'alice' | Remove-RelayMessage -WhatIf

        Get-ChildItem $spool | Should -HaveCount 12
    }

    It 'removes the piped messages, envelope and content' {
        Get-RelaySpool -SpoolPath $spool | Where-Object AuthenticatedAs -EQ 'alice' | Remove-RelayMessage -Confirm:$false

        (Get-RelaySpool -SpoolPath $spool).Id | Should -Be @($badId, $submittedId)
        Get-ChildItem $spool | Should -HaveCount 4
    }

    It 'removes by id and writes RelayMessageNotFound for an unknown one' {
        Remove-RelayMessage -Id 'emailrelay.9.9.9', $badId -SpoolPath $spool -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue

        $failures.FullyQualifiedErrorId | Should -Be 'RelayMessageNotFound,RelayCmdlets.RemoveRelayMessageCommand'
        Test-Path (Join-Path $spool "$badId.content") | Should -BeFalse
    }

    It 'refuses a busy message with RelayMessageBusy and goes on' {
        Rename-Item (Join-Path $spool "$submittedId.envelope") "$submittedId.envelope.busy"

        Remove-RelayMessage -Id $submittedId, $badId -SpoolPath $spool -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue

        $failures.FullyQualifiedErrorId | Should -Be 'RelayMessageBusy,RelayCmdlets.RemoveRelayMessageCommand'
        Test-Path (Join-Path $spool "$submittedId.envelope.busy") | Should -BeTrue
        Test-Path (Join-Path $spool "$badId.envelope.bad") | Should -BeFalse
    }

    It 'is ConfirmImpact High' {
        $attribute = (Get-Command Remove-RelayMessage).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)

        $attribute.ConfirmImpact | Should -Be 'High'
    }

    It 'rejects a null -InputObject' {
        { Remove-RelayMessage -InputObject $null -Confirm:$false } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,RelayCmdlets.RemoveRelayMessageCommand'
    }

    It 'has help with a synopsis and at least two examples, each explained' {
        Assert-RelayHelp Remove-RelayMessage
    }
}
