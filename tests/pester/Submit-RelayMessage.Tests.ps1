# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Relay.TestSupport.ps1')
}

Describe 'Submit-RelayMessage' {
    BeforeEach {
        $spool = Join-Path $TestDrive 'spool'
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'work')
    }

    AfterEach {
        Remove-Item -LiteralPath $spool, $work -Recurse -Force -ErrorAction Ignore
    }

    It 'composes a message with an attachment, creating the spool' {
        $attachment = Join-Path $work 'report.txt'
        Set-Content -Path $attachment -Value 'all good'

        $message = Submit-RelayMessage -SpoolPath $spool -From ops@example.com -To bob@example.net -Subject 'Report' -Body 'Attached.' -Attachment $attachment

        $message.State | Should -Be 'Ready'
        $message.Client | Should -Be '127.0.0.1'
        Get-Content -Raw $message.ContentPath | Should -Match 'filename=report.txt'
    }

    It 'puts Bcc recipients in the envelope only' {
        $message = Submit-RelayMessage -SpoolPath $spool -From ops@example.com -To bob@example.net -Bcc audit@example.org -Subject 's' -Body 'b'

        $message.To | Should -Be @('bob@example.net', 'audit@example.org')
        Get-Content -Raw $message.ContentPath | Should -Not -Match 'audit@example.org'
    }

    It 'submits an .eml file with CRLF line ends and without its Bcc header' {
        $eml = Join-Path $work 'note.eml'
        [System.IO.File]::WriteAllText($eml, "From: a@example.com`nTo: b@example.net`nBcc: c@example.org`nSubject: note`n`nbody`n")

        $message = Submit-RelayMessage -Path $eml -SpoolPath $spool

        $message.To | Should -Be @('b@example.net', 'c@example.org')
        [System.IO.File]::ReadAllText($message.ContentPath) | Should -BeExactly "From: a@example.com`r`nTo: b@example.net`r`nSubject: note`r`n`r`nbody`r`n"
        Get-Content -Raw $message.EnvelopePath | Should -Match 'X-MailRelay-Content: unknown'
    }

    It 'joins lines piped from Get-Content into one message' {
        $text = Join-Path $work 'note.txt'
        Set-Content -Path $text -Value 'From: a@example.com', 'To: b@example.net', 'Subject: lines', '', 'one', 'two'

        $messages = @(Get-Content $text | Submit-RelayMessage -SpoolPath $spool)

        $messages | Should -HaveCount 1
        [System.IO.File]::ReadAllText($messages[0].ContentPath) | Should -BeExactly "From: a@example.com`r`nTo: b@example.net`r`nSubject: lines`r`n`r`none`r`ntwo`r`n"
    }

    It 'submits .eml files piped from Get-ChildItem' {
        1..2 | ForEach-Object { Set-Content -Path (Join-Path $work "m$_.eml") -Value "From: a@example.com`r`nTo: b$_@example.net`r`n`r`nbody" }

        $messages = Get-ChildItem -Path $work -Filter *.eml | Submit-RelayMessage -SpoolPath $spool

        ($messages.To | Sort-Object) | Should -Be @('b1@example.net', 'b2@example.net')
    }

    It 'writes InvalidSubmission for a message without recipients' {
        { 'From: a@example.com', '', 'body' | Submit-RelayMessage -SpoolPath $spool -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidSubmission,RelayCmdlets.SubmitRelayMessageCommand'
    }

    It 'writes PathNotFound for a missing file' {
        { Submit-RelayMessage -Path (Join-Path $work 'missing.eml') -SpoolPath $spool -ErrorAction Stop } |
            Should -Throw -ErrorId 'PathNotFound,RelayCmdlets.SubmitRelayMessageCommand'
    }

    It 'writes nothing, not even the spool directory, with -WhatIf' {
        Submit-RelayMessage -SpoolPath $spool -From a@example.com -To b@example.net -WhatIf

        Test-Path $spool | Should -BeFalse
    }

    It 'has help with a synopsis and at least two examples, each explained' {
        Assert-RelayHelp Submit-RelayMessage
    }
}
