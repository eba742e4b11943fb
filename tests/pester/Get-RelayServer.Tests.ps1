# Get-RelayServer: the user-facing behaviour, against the built module.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayServer.TestSupport.ps1')
    $modulePath = Import-RelayTestModule
    $getId = 'RelayCmdlets.GetRelayServerCommand'
}

Describe 'Get-RelayServer' {
    BeforeEach {
        $spool = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $name = New-RelayTestServerName
    }

    AfterEach {
        Stop-RelayTestServer $name
    }

    It 'has help with a synopsis and at least two examples' {
        Assert-RelayHelp Get-RelayServer
    }

    It 'reports a name that no server has' {
        { Get-RelayServer -Name $name -ErrorAction Stop } | Should -Throw -ErrorId "RelayServerNotFound,$getId"
    }

    It 'writes nothing, silently, for a wildcard that matches nothing' {
        Get-RelayServer -Name "$name*" -ErrorVariable problems | Should -BeNullOrEmpty
        $problems | Should -BeNullOrEmpty
    }

    It 'finds servers by wildcard, each once, in name order' {
        $null = Start-RelayServer -Name "$name-b" -SpoolPath "$spool-b" -ListenAddress 127.0.0.1 -Port 0
        $null = Start-RelayServer -Name "$name-a" -SpoolPath "$spool-a" -ListenAddress 127.0.0.1 -Port 0

        $found = Get-RelayServer -Name "$name*", "$name-a"

        $found.Name | Should -Be @("$name-a", "$name-b")
    }

    It 'counts what swaks submits' {
        if (-not (Test-SwaksPresent)) { Set-ItResult -Skipped -Because 'PEER MISSING: swaks is not installed'; return }
        $server = Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0

        Send-SwaksMessage $server.Endpoints[0].Port

        $found = Get-RelayServer -Name $name
        $found.Accepted | Should -Be 1
        $found.ConnectionsTotal | Should -Be 1
        $found.BytesReceived | Should -BeGreaterThan 0
    }
}
