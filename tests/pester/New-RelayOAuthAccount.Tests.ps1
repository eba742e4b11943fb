# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayOAuth.TestSupport.ps1')
    $testId = 'RelayCmdlets.NewRelayOAuthAccountCommand'
}

Describe 'New-RelayOAuthAccount' {
    BeforeEach { $folder = New-RelayTestAccountFolder }
    AfterEach { Remove-Item -LiteralPath $folder -Recurse -Force }

    It 'writes a Microsoft 365 account owner-only and returns its summary' {
        $path = Join-Path $folder 'printer.json'

        $account = New-RelayTestMicrosoft365Account $path

        $account.Provider | Should -Be 'Microsoft365'
        $account.UserName | Should -Be 'printer@contoso.test'
        $account.CredentialType | Should -Be 'ClientSecret'
        $account.Path | Should -Be $path
        if (-not $IsWindows) {
            [System.IO.File]::GetUnixFileMode($path) | Should -Be ([System.IO.UnixFileMode] 'UserRead, UserWrite')
            $account.UnixMode | Should -Be '-rw-------'
        }
    }

    It 'shows no secret in its default view, its properties or ConvertTo-Json' {
        $account = New-RelayTestMicrosoft365Account (Join-Path $folder 'printer.json')

        $shown = ($account | Format-List * | Out-String) + ($account | ConvertTo-Json) + ($account | Out-String) + "$account"

        $shown | Should -Not -Match ([regex]::Escape($clientSecretText))
        $shown | Should -Match 'printer@contoso.test'
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $folder 'printer.json'

        $account = New-RelayOAuthAccount Microsoft365 -Path $path -TenantId contoso.test -ClientId app-1 -ClientSecret $clientSecret -Mailbox printer@contoso.test -WhatIf

        $account | Should -BeNullOrEmpty
        Test-Path $path | Should -BeFalse
    }

    It 'refuses to replace a file without -Force and replaces it with -Force' {
        $path = Join-Path $folder 'printer.json'
        Set-Content -Path $path -Value 'keep'

        { New-RelayTestMicrosoft365Account $path } | Should -Throw -ErrorId "OAuthAccountExists,$testId"
        Get-Content $path | Should -Be 'keep'
        New-RelayTestMicrosoft365Account $path -Force | Should -Not -BeNullOrEmpty
        (Get-Content -Raw $path | ConvertFrom-Json).kind | Should -Be 'Microsoft365'
    }

    It 'refuses a folder that others can write to' -Skip:$IsWindows {
        [System.IO.File]::SetUnixFileMode($folder, [System.IO.UnixFileMode] 'UserRead, UserWrite, UserExecute, GroupWrite, OtherWrite, GroupRead, OtherRead, GroupExecute, OtherExecute')

        { New-RelayTestMicrosoft365Account (Join-Path $folder 'printer.json') } | Should -Throw -ErrorId "OAuthAccountFolderNotPrivate,$testId"
        Get-ChildItem $folder | Should -BeNullOrEmpty
    }

    It 'picks the parameter set from the parameters given' {
        $sets = (Get-Command New-RelayOAuthAccount).ParameterSets.Name

        $sets | Should -Be @('Microsoft365Secret', 'Microsoft365Certificate', 'Microsoft365Thumbprint', 'RefreshToken', 'Static')
        (Get-Command New-RelayOAuthAccount).DefaultParameterSet | Should -Be 'Microsoft365Secret'
    }

    It 'takes secrets only as SecureString or PSCredential' {
        $command = Get-Command New-RelayOAuthAccount

        $command.Parameters['ClientSecret'].ParameterType | Should -Be ([securestring])
        $command.Parameters['CertificatePassword'].ParameterType | Should -Be ([securestring])
        $command.Parameters['RefreshToken'].ParameterType | Should -Be ([securestring])
        $command.Parameters['Credential'].ParameterType | Should -Be ([pscredential])
        { New-RelayOAuthAccount Microsoft365 -TenantId t -ClientId c -ClientSecret 'plain' -Mailbox m@x.test } | Should -Throw -ErrorId "CannotConvertArgumentNoMessage,$testId"
    }

    It 'says which parameters a provider takes when they disagree' {
        { New-RelayOAuthAccount Static -TenantId t -ClientId c -ClientSecret $clientSecret -Mailbox m@x.test } | Should -Throw -ErrorId "InvalidOAuthAccountParameters,$testId"
    }

    It 'keeps a refresh-token account with Google''s endpoint by default' {
        $account = New-RelayOAuthAccount RefreshToken -ClientId gmail-client -ClientSecret $clientSecret -RefreshToken $clientSecret -UserName scanner@gmail.test

        $account.TokenEndpoint | Should -Be 'https://oauth2.googleapis.com/token'
        $account.Path | Should -BeNullOrEmpty
    }

    It 'has help with examples' {
        Assert-RelayHelp New-RelayOAuthAccount
    }
}
