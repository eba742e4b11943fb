# Stop-RelayServer: the user-facing behaviour, against the built module.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayServer.TestSupport.ps1')
    $modulePath = Import-RelayTestModule
    $stopId = 'RelayCmdlets.StopRelayServerCommand'
}

Describe 'Stop-RelayServer' {
    BeforeEach {
        $spool = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $name = New-RelayTestServerName
    }

    AfterEach {
        Stop-RelayTestServer $name
    }

    It 'has help with a synopsis and at least two examples' {
        Assert-RelayHelp Stop-RelayServer
    }

    It 'reports a name that no server has' {
        { Stop-RelayServer -Name $name -ErrorAction Stop } | Should -Throw -ErrorId "RelayServerNotFound,$stopId"
    }

    It 'stops nothing, silently, for a wildcard that matches nothing' {
        Stop-RelayServer -Name "$name*" -ErrorVariable problems -PassThru | Should -BeNullOrEmpty
        $problems | Should -BeNullOrEmpty
    }

    It 'needs a name or a server' {
        { Stop-RelayServer -InputObject $null } | Should -Throw -ErrorId "ParameterArgumentValidationError,$stopId"
    }

    It 'stops a server by name and forgets it' {
        $server = Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0

        Stop-RelayServer -Name $name

        $server.IsRunning | Should -BeFalse
        Get-RelayServer -Name "$name*" | Should -BeNullOrEmpty
    }

    It 'stops servers piped to it and passes them through' {
        $server = Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0

        $stopped = $server | Stop-RelayServer -PassThru

        $stopped.Name | Should -Be $name
        $stopped.IsRunning | Should -BeFalse
    }

    It 'leaves the server running with -WhatIf' {
        $server = Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0

        Stop-RelayServer -Name $name -WhatIf

        $server.IsRunning | Should -BeTrue
    }

    It 'ends a Start-RelayServer -Wait running in another runspace' {
        $waiting = [powershell]::Create()
        try {
            $null = $waiting.AddScript({
                    param($modulePath, $name, $spool)
                    Import-Module $modulePath
                    Start-RelayServer -Name $name -SpoolPath $spool -ListenAddress 127.0.0.1 -Port 0 -Wait
                }).AddArgument($modulePath).AddArgument($name).AddArgument($spool)
            $run = $waiting.BeginInvoke()
            $deadline = [datetime]::UtcNow.AddSeconds(15)
            while (-not (Get-RelayServer -Name "$name*") -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }

            Stop-RelayServer -Name $name

            $run.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(15)) | Should -BeTrue
            $waiting.EndInvoke($run).Name | Should -Be $name
        }
        finally {
            $waiting.Dispose()
        }
    }
}
