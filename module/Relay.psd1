@{
    RootModule           = 'Relay.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0c2a4e-8d3b-4b7e-9a51-2f4c1d9e7b30'
    Author               = 'The Relay authors'
    CompanyName          = 'Relay'
    Copyright            = '(c) The Relay authors. MIT licence.'
    Description          = 'An SMTP store-and-forward relay and proxy, scriptable from PowerShell: spool, forward, filter and administer mail. Keeps E-MailRelay''s spool, filter and secrets-file contracts.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('Relay.format.ps1xml')
    CmdletsToExport      = @(
        'Get-RelaySpool'
        'Submit-RelayMessage'
        'Remove-RelayMessage'
        'Reset-RelayBadMessage'
        'Start-RelayServer'
        'Stop-RelayServer'
        'Get-RelayServer'
        'Invoke-RelayForward'
        'Test-RelayConnection'
        'New-RelayOAuthAccount'
        'Get-RelayOAuthAccount'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('SMTP', 'Mail', 'Relay', 'EmailRelay', 'Spool', 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
