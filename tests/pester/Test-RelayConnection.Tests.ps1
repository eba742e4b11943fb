# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayForward.TestSupport.ps1')
    $testId = 'RelayCmdlets.TestRelayConnectionCommand'
}

Describe 'Test-RelayConnection' {
    BeforeEach { $hop = $null; $authHop = $null }

    AfterEach {
        Stop-RelayTestNextHop $hop
        Stop-RelayTestAuthNextHop $authHop
    }

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

    It 'shows the token step of an OAuth2 account in its default view, and never the token' {
        # A JWT as Entra ID issues for Exchange Online; the XOAUTH2-only next hop (auth_next_hop.py) accepts only it.
        $payload = '{"aud":"https://outlook.office365.com","roles":["SMTP.SendAsApp"],"exp":' + [DateTimeOffset]::UtcNow.AddHours(1).ToUnixTimeSeconds() + '}'
        $claims = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        $token = "eyJhbGciOiJSUzI1NiJ9.$claims.c2lnbmF0dXJl"
        $authHop = Start-RelayTestAuthNextHop '--mechanisms', 'XOAUTH2', '--oauth', "printer@contoso.test:$token"
        if (-not $authHop) { Set-ItResult -Skipped -Because 'aiosmtpd is missing'; return }
        $user = [pscredential]::new('printer@contoso.test', [securestring]::new())

        $result = Test-RelayConnection -To $authHop.Address -ClientTls None -Credential $user -OAuthToken (ConvertTo-SecureString $token -AsPlainText -Force)
        $shown = ($result | Format-List | Out-String -Width 400) + ($result.OAuth | Format-List | Out-String -Width 400)

        $result.Succeeded | Should -BeTrue
        $result.OAuth.HasSendAsApp | Should -BeTrue
        $shown | Should -Match 'OAuth\s+: token for printer@contoso\.test, expires .*roles SMTP\.SendAsApp \(SMTP\.SendAsApp present\); XOAUTH2 235'
        $shown | Should -Match 'Token Succeeded'
        $shown | Should -Match 'HasSendAsApp\s+: True'
        $shown | Should -Match 'Roles\s+: SMTP\.SendAsApp'
        $shown | Should -Not -Match ([regex]::Escape($claims))
    }

    It 'refuses -Apop without -PopBeforeSmtp' {
        { Test-RelayConnection -To 127.0.0.1:25 -Apop } | Should -Throw -ErrorId "InvalidForwardingParameters,$testId"
    }

    It 'has help with a synopsis and at least two examples, each explained' {
        Assert-RelayHelp Test-RelayConnection
    }
}
