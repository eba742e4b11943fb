# Shared by the OAuth account cmdlets' Pester files; dot-source it in BeforeAll.

. (Join-Path $PSScriptRoot 'Relay.TestSupport.ps1')

$clientSecretText = 'pester-client-secret~0042'
$clientSecret = [System.Net.NetworkCredential]::new('', $clientSecretText).SecurePassword

function New-RelayTestAccountFolder {
    # A folder of this test's own, writable by its owner only, as an administrator keeps accounts.
    $folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $folder
    if (-not $IsWindows) { [System.IO.File]::SetUnixFileMode($folder, [System.IO.UnixFileMode] 'UserRead, UserWrite, UserExecute') }
    $folder
}

function New-RelayTestMicrosoft365Account([string] $Path, [switch] $Force) {
    New-RelayOAuthAccount Microsoft365 -Path $Path -Force:$Force -TenantId contoso.test -ClientId app-1 -ClientSecret $clientSecret -Mailbox printer@contoso.test
}
