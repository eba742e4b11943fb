# Start-RelayServer: the user-facing behaviour, against the built module.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayServer.TestSupport.ps1')
    $startId = 'RelayCmdlets.StartRelayServerCommand'
}

Describe 'Start-RelayServer' {
    BeforeEach {
        $spool, $name = New-RelayServerTestCase
        $folder = Split-Path $spool
    }

    AfterEach { Stop-RelayTestServer $name }

    It 'has help with a synopsis and at least two examples, each explained' {
        Assert-RelayHelp Start-RelayServer
    }

    It 'refuses port <Port>' -ForEach @(@{ Port = 65536 }, @{ Port = -1 }) {
        { Start-RelayServer -Name $name -SpoolPath $spool -Port $Port } |
            Should -Throw -ErrorId "ParameterArgumentValidationError,$startId"
    }

    It 'refuses a bare number as -IdleTimeout (PowerShell reads it as ticks)' {
        { Start-RelayServer -Name $name -SpoolPath $spool -IdleTimeout 30 } |
            Should -Throw -ErrorId "ParameterArgumentValidationError,$startId"
    }

    It 'refuses a host name as -ListenAddress' {
        { Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress mail.example.com } |
            Should -Throw -ErrorId "CannotConvertArgumentNoMessage,$startId"
    }

    It 'names a missing certificate, resolved against the current location' {
        Push-Location $folder
        try {
            $record = $null
            try { Start-RelayServer -Name $name -SpoolPath $spool -Port 0 -CertificatePath missing.pem } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be "CertificateNotFound,$startId"
            $record.TargetObject | Should -Be (Join-Path $folder 'missing.pem')
        }
        finally {
            Pop-Location
        }
    }

    It 'names a missing secrets file' {
        { Start-RelayServer -Name $name -SpoolPath $spool -Port 0 -ServerSecretsPath (Join-Path $folder 'none.auth') } |
            Should -Throw -ErrorId "SecretsFileNotFound,$startId"
    }

    It 'starts nothing and creates no spool with -WhatIf' {
        Start-RelayServer -Name $name -SpoolPath $spool -Port 0 -WhatIf

        $spool | Should -Not -Exist
        Get-RelayServer -Name "$name*" | Should -BeNullOrEmpty
    }

    It 'returns a running server on the port it bound' {
        $server = Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0

        $server.IsRunning | Should -BeTrue
        $server.Endpoints[0].Port | Should -Not -Be 0
        $server.SpoolPath | Should -Be $spool
        $spool | Should -Exist
    }

    It 'refuses a second server of the same name' {
        $null = Start-RelayServer -Name $name -SpoolPath $spool -Port 0

        { Start-RelayServer -Name $name -SpoolPath "$spool-2" -Port 0 } |
            Should -Throw -ErrorId "RelayServerNameInUse,$startId"
    }

    It 'spools what swaks submits' {
        if (-not (Test-SwaksPresent)) { Set-ItResult -Skipped -Because 'PEER MISSING: swaks is not installed'; return }
        $server = Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0

        Send-SwaksMessage $server.Endpoints[0].Port

        (Get-RelaySpool -SpoolPath $spool).To | Should -Be 'bob@example.net'
    }

    It 'shows the server in a table view that fits 120 columns' {
        $null = Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0

        $table = Get-RelayServer -Name $name | Format-Table | Out-String -Width 120

        $table | Should -Match 'Name\s+Endpoints\s+SpoolPath\s+StartTime\s+Connections\s+Accepted\s+Rejected'
        $table | Should -Match ([regex]::Escape($name))
    }
}

Describe 'Start-RelayServer -ForwardTo' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'RelayForward.TestSupport.ps1')
    }

    BeforeEach {
        $spool, $name = New-RelayServerTestCase
        $hop = $null
    }

    AfterEach {
        Stop-RelayTestServer $name
        Stop-RelayTestNextHop $hop
    }

    It 'forwards what a client submitted once it disconnects (E-MailRelay''s --as-proxy), and counts it' {
        if (-not (Test-SwaksPresent)) { Set-ItResult -Skipped -Because 'PEER MISSING: swaks is not installed'; return }
        $hop = Start-RelayTestNextHop
        if (-not $hop) { Set-ItResult -Skipped -Because 'aiosmtpd is missing'; return }
        $server = Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0 -ForwardTo $hop.Address -ForwardOnDisconnect

        Send-SwaksMessage $server.Endpoints[0].Port

        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ((Get-RelayServer -Name $name).Forwarded -lt 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        (Get-RelayServer -Name $name).Forwarded | Should -Be 1
        (Get-RelayTestNextHopMessage $hop).rcpt_tos | Should -Be 'bob@example.net'
        $server.ForwardTo | Should -Be $hop.Address
    }

    It 'refuses a forwarding trigger without -ForwardTo' {
        { Start-RelayServer -Name $name -SpoolPath $spool -Port 0 -ForwardOnDisconnect } |
            Should -Throw -ErrorId "InvalidForwardingParameters,$startId"
    }

    It 'refuses a client parameter without -ForwardTo' {
        { Start-RelayServer -Name $name -SpoolPath $spool -Port 0 -ClientTls StartTls } |
            Should -Throw -ErrorId "InvalidForwardingParameters,$startId"
    }
}
