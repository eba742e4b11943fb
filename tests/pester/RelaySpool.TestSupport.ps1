# Shared by the spool cmdlets' Pester files; dot-source it in BeforeAll.

. (Join-Path $PSScriptRoot 'Relay.TestSupport.ps1')

# Ids in the spool E-MailRelay 2.6b wrote: its one Bad message (two failures recorded) and the message
# emailrelay-submit wrote.
$badId = 'emailrelay.32054.1795422460.1'
$submittedId = 'emailrelay.32064.1795422460.1'

function New-RelayTestSpool {
    # A fresh copy for each test of the spool E-MailRelay 2.6b wrote, as the repository keeps it for the
    # engine tests: the cmdlets under test rename and delete its files.
    $spool = Join-Path $TestDrive 'spool'
    $null = New-Item -ItemType Directory -Path $spool
    Copy-Item -Path (Join-Path $PSScriptRoot '../RelayCore.Tests/Spool/TestData/emailrelay-2.6b/emailrelay.*') -Destination $spool
    $spool
}
