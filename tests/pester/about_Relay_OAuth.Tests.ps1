# Copyright (c) The Relay authors.
# Licensed under the MIT licence.

BeforeAll {
    . (Join-Path $PSScriptRoot 'RelayOAuth.TestSupport.ps1')
}

Describe 'about_Relay_OAuth' {
    BeforeEach { $folder = New-RelayTestAccountFolder }
    AfterEach { Remove-Item -LiteralPath $folder -Recurse -Force }

    It 'has a complete .psd1 that Start-RelayServer takes as it is' {
        # The page's "After" data file, with its Windows paths moved into this test's folder.
        $page = Get-Content -Raw (Join-Path $PSScriptRoot '../../docs/help/about_Relay_OAuth.md')
        $blocks = [regex]::Matches($page, '(?s)```powershell\r?\n(@\{.*?\})\r?\n```') | ForEach-Object { $_.Groups[1].Value }
        $after = @($blocks | Where-Object { $_ -match 'OAuthAccountPath' })[0]
        $after | Should -Not -BeNullOrEmpty
        $null = New-RelayTestMicrosoft365Account (Join-Path $folder 'printer.oauth.json')
        $data = Join-Path $folder 'relay.psd1'
        Set-Content -Path $data -Value ($after.Replace('C:\Relay\', $folder + [System.IO.Path]::DirectorySeparatorChar))

        $settings = Import-PowerShellDataFile $data
        Start-RelayServer @settings -WhatIf -WarningAction SilentlyContinue -ErrorVariable problems

        $problems | Should -BeNullOrEmpty
        $settings.OAuthAccountPath | Should -Be (Join-Path $folder 'printer.oauth.json')
    }

    It 'is shown by Get-Help' {
        (Get-Help about_Relay_OAuth | Out-String) | Should -Match 'New-RelayOAuthAccount'
    }
}
