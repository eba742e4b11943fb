# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayOAuth.TestSupport.ps1')
    $testId = 'RelayCmdlets.GetRelayOAuthAccountCommand'
}

Describe 'Get-RelayOAuthAccount' {
    BeforeEach { $folder = New-RelayTestAccountFolder }
    AfterEach { Remove-Item -LiteralPath $folder -Recurse -Force }

    It 'reads back what New-RelayOAuthAccount wrote' {
        $written = New-RelayTestMicrosoft365Account (Join-Path $folder 'printer.json')

        $read = Get-RelayOAuthAccount $written.Path

        ($read.Provider, $read.UserName, $read.TenantId, $read.ClientId, $read.CredentialType, $read.Path) | Should -Be @('Microsoft365', 'printer@contoso.test', 'contoso.test', 'app-1', 'ClientSecret', $written.Path)
    }

    It 'takes files from Get-ChildItem' {
        $null = New-RelayTestMicrosoft365Account (Join-Path $folder 'a.json')
        $null = New-RelayOAuthAccount Static -Credential ([pscredential]::new('relay@example.test', $clientSecret)) -Path (Join-Path $folder 'b.json')

        $accounts = Get-ChildItem $folder -Filter *.json | Get-RelayOAuthAccount

        $accounts.Provider | Should -Be @('Microsoft365', 'Static')
    }

    It 'refuses a file that others can read and goes on with the next' -Skip:$IsWindows {
        $exposed = (New-RelayTestMicrosoft365Account (Join-Path $folder 'exposed.json')).Path
        $private = (New-RelayTestMicrosoft365Account (Join-Path $folder 'private.json')).Path
        [System.IO.File]::SetUnixFileMode($exposed, [System.IO.UnixFileMode] 'UserRead, UserWrite, GroupRead, OtherRead')

        $accounts = Get-RelayOAuthAccount $exposed, $private -ErrorVariable problems -ErrorAction SilentlyContinue

        $problems.FullyQualifiedErrorId | Should -Be "OAuthAccountNotPrivate,$testId"
        $problems[0].TargetObject | Should -Be $exposed
        "$($problems[0])" | Should -Match 'chmod 600'
        $accounts.Path | Should -Be $private
    }

    It 'says OAuthAccountNotFound for a missing file' {
        { Get-RelayOAuthAccount (Join-Path $folder 'missing.json') -ErrorAction Stop } | Should -Throw -ErrorId "OAuthAccountNotFound,$testId"
    }

    It 'has help with examples' {
        Assert-RelayHelp Get-RelayOAuthAccount
    }
}
