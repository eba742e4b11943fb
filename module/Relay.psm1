# Loads the cmdlets built for this edition: net8.0 for PowerShell 7.4 and
# later, netstandard2.0 for Windows PowerShell 5.1.
$binaryFolder = if ($PSEdition -eq 'Core') { 'net8.0' } else { 'netstandard2.0' }
$cmdletsPath = [System.IO.Path]::Combine($PSScriptRoot, $binaryFolder, 'RelayCmdlets.dll')
# Listing the cmdlets loads types whose layout needs RelayCore (enum-typed parameters) before the
# module's OnImport runs, so the dependency resolver is registered first.
$null = [System.Reflection.Assembly]::LoadFrom($cmdletsPath)
[RelayCmdlets.ModuleAssemblyLoader]::Register()
$cmdletsModule = Microsoft.PowerShell.Core\Import-Module -Name $cmdletsPath -PassThru -ErrorAction Stop
# A KeyCollection does not bind to -Cmdlet as a list of names: cast it.
Microsoft.PowerShell.Core\Export-ModuleMember -Cmdlet ([string[]] $cmdletsModule.ExportedCmdlets.Keys)
