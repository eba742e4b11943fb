# Shared by the forwarding cmdlets' Pester files; dot-source it in BeforeAll.

. (Join-Path $PSScriptRoot 'Relay.TestSupport.ps1')

function New-RelayForwardTestSpool {
    # An empty spool of this test's own, with three messages: two for example.com, one for example.net.
    $spool = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $spool
    foreach ($to in 'one@example.com', 'two@example.net', 'three@example.com') {
        $null = Submit-RelayMessage -SpoolPath $spool -From alice@example.org -To $to -Subject $to -Body 'Hello.'
    }
    $spool
}

function Get-RelayTestClosedPort {
    # A loopback port nothing listens on: a next hop that is down refuses at once.
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $port = $listener.LocalEndpoint.Port
    $listener.Stop()
    $port
}

function Start-RelayTestPeer([string] $Script, [string[]] $Arguments) {
    # One of the engine tests' aiosmtpd peers (tests/RelayCore.Tests/Forwarding/Peers/$Script), started with its
    # arguments; it prints READY <port> once it listens. Missing peers fail under CI (RELAY_REQUIRE_PEERS=1) and
    # skip loudly otherwise (returns $null).
    $python = '/usr/bin/python3'
    $hasPeer = (Test-Path $python) -and $(& $python -c 'import aiosmtpd' 2>$null; $LASTEXITCODE -eq 0)
    if (-not $hasPeer) {
        if ($env:RELAY_REQUIRE_PEERS -eq '1') { throw 'PEER MISSING: Python 3 with aiosmtpd (python3-aiosmtpd) is not installed.' }
        Write-Warning 'PEER MISSING: Python 3 with aiosmtpd is not installed; this test did NOT run.'
        return $null
    }
    $start = [System.Diagnostics.ProcessStartInfo]::new($python)
    $start.ArgumentList.Add((Join-Path $PSScriptRoot "../RelayCore.Tests/Forwarding/Peers/$Script"))
    foreach ($argument in $Arguments) { $start.ArgumentList.Add($argument) }
    $start.UseShellExecute = $false
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $process = [System.Diagnostics.Process]::Start($start)
    # The read returns null when the script exits instead (it cannot listen, or bad arguments).
    $ready = $process.StandardOutput.ReadLineAsync()
    if (-not $ready.Wait([TimeSpan]::FromSeconds(20)) -or $ready.Result -notmatch '^READY (\d+)$') {
        $process.Kill()
        throw "The aiosmtpd next hop did not start: '$($ready.Result)'."
    }
    [pscustomobject]@{ Process = $process; Port = [int] $Matches[1]; Address = "127.0.0.1:$($Matches[1])" }
}

function Start-RelayTestNextHop([string[]] $Option = @()) {
    # smtp_next_hop.py, which records each message it accepts; $null when the peer is missing.
    $record = Join-Path $TestDrive ('hop-' + [guid]::NewGuid().ToString('N'))
    $hop = Start-RelayTestPeer 'smtp_next_hop.py' (@('--record', $record, '--lifetime', '120') + $Option)
    if ($hop) { $hop | Add-Member -NotePropertyName Record -NotePropertyValue $record -PassThru }
}

function Start-RelayTestAuthNextHop([string[]] $Option = @()) {
    # auth_next_hop.py: AUTH PLAIN, LOGIN, CRAM-MD5 and XOAUTH2 (see its options); $null when the peer is missing.
    # It ends on a signal, not when its input closes: stop it with Stop-RelayTestAuthNextHop.
    Start-RelayTestPeer 'auth_next_hop.py' (@('--record', (Join-Path $TestDrive ('auth-hop-' + [guid]::NewGuid().ToString('N')))) + $Option)
}

function Stop-RelayTestAuthNextHop($NextHop) {
    if ($null -eq $NextHop) { return }
    $NextHop.Process.Kill()
    $null = $NextHop.Process.WaitForExit(10000)
    $NextHop.Process.Dispose()
}

function Stop-RelayTestNextHop($NextHop) {
    if ($null -eq $NextHop) { return }
    # Closing its standard input ends the script.
    $NextHop.Process.StandardInput.Close()
    if (-not $NextHop.Process.WaitForExit(10000)) { $NextHop.Process.Kill() }
    $NextHop.Process.Dispose()
}

function Get-RelayTestNextHopMessage($NextHop) {
    # The envelopes the next hop accepted, oldest first (mail_from, rcpt_tos, ...).
    if (-not (Test-Path $NextHop.Record)) { return }
    Get-ChildItem -Path $NextHop.Record -Filter *.json | Sort-Object Name | ForEach-Object { Get-Content -Raw $_.FullName | ConvertFrom-Json }
}
