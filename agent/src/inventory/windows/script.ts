/**
 * @module agent/inventory/windows/script
 * The one PowerShell script the Windows collector runs (Windows PowerShell 5.1, present
 * on every supported Windows): CIM queries, the uninstall registry keys (64-bit and
 * 32-bit views, and each loaded user hive), hotfixes, Defender, printers, monitors and
 * batteries, printed as one JSON object (`ConvertTo-Json -Depth 4 -Compress`). Lists are
 * wrapped in @() (and returned with the unary comma) so that one item still prints as an
 * array; single CIM objects print as objects, or as arrays on machines that have two (a
 * docked laptop has two enclosures). The parser accepts either shape everywhere. Output is forced to UTF-8: a redirected 5.1 console otherwise writes the OEM
 * code page and mangles accented names. It is passed with -EncodedCommand, which needs
 * no quoting on the command line.
 */
export const WINDOWS_INVENTORY_SCRIPT = String.raw`
$ErrorActionPreference = 'SilentlyContinue'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [System.Text.Encoding]::UTF8
function Cim($Class, $Props, $Ns = 'root/cimv2', $Filter) {
  if ($Filter) { $r = Get-CimInstance -Namespace $Ns -ClassName $Class -Filter $Filter } else { $r = Get-CimInstance -Namespace $Ns -ClassName $Class }
  # The unary comma keeps the array whole: a function's output is otherwise unrolled (one item -> an object, none -> null).
  ,@($r | Select-Object -Property $Props)
}
function Apps($Path, $Arch, $Sid) {
  @(Get-ItemProperty -Path $Path | Where-Object { $_.DisplayName } | Select-Object DisplayName, DisplayVersion, Publisher, InstallDate, EstimatedSize,
    UninstallString, URLInfoAbout, HelpLink, InstallLocation, SystemComponent, ParentKeyName, ReleaseType, NoRemove, PSChildName,
    @{ n = 'Arch'; e = { $Arch } }, @{ n = 'UserSid'; e = { $Sid } })
}
$un = 'Software\Microsoft\Windows\CurrentVersion\Uninstall\*'
$un32 = 'Software\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
$apps = @(Apps "HKLM:\$un" '64' $null) + @(Apps "HKLM:\$un32" '32' $null)
$owners = @{}
foreach ($h in @(Get-ChildItem Registry::HKEY_USERS | Where-Object { $_.PSChildName -match '^S-1-5-21-[\d-]+$' })) {
  $sid = $h.PSChildName
  $apps += @(Apps "Registry::HKEY_USERS\$sid\$un" '' $sid) + @(Apps "Registry::HKEY_USERS\$sid\$un32" '32' $sid)
  try { $owners[$sid] = (New-Object System.Security.Principal.SecurityIdentifier($sid)).Translate([System.Security.Principal.NTAccount]).Value } catch { }
}
$signedIn = @(Get-CimInstance Win32_Process -Filter "Name = 'explorer.exe'" | ForEach-Object { Invoke-CimMethod -InputObject $_ -MethodName GetOwner } |
  Where-Object { $_.User } | Select-Object Domain, User)
[pscustomobject]@{
  ComputerSystem = Get-CimInstance Win32_ComputerSystem | Select-Object Name, Domain, Workgroup, PartOfDomain, Manufacturer, Model, SystemSKUNumber, TotalPhysicalMemory, UserName, PCSystemType
  Product = Get-CimInstance Win32_ComputerSystemProduct | Select-Object UUID, IdentifyingNumber, Vendor, Name
  Bios = Get-CimInstance Win32_BIOS | Select-Object Manufacturer, SMBIOSBIOSVersion, ReleaseDate, SerialNumber
  BaseBoard = Get-CimInstance Win32_BaseBoard | Select-Object Manufacturer, Product, SerialNumber
  Enclosure = Get-CimInstance Win32_SystemEnclosure | Select-Object ChassisTypes, SMBIOSAssetTag, SerialNumber
  OperatingSystem = Get-CimInstance Win32_OperatingSystem | Select-Object Caption, Version, BuildNumber, OSArchitecture, CSDVersion, InstallDate, LastBootUpTime,
    SerialNumber, RegisteredUser, Organization, OSLanguage, CurrentTimeZone, SystemDrive
  WindowsNT = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' | Select-Object ProductName, DisplayVersion, ReleaseId, CurrentBuild, UBR, EditionID
  TimeZone = [System.TimeZoneInfo]::Local.Id
  Processors = Cim Win32_Processor Name, Manufacturer, NumberOfCores, NumberOfLogicalProcessors, MaxClockSpeed, ProcessorId, Architecture, Description, L3CacheSize, SocketDesignation
  Memory = Cim Win32_PhysicalMemory Capacity, DeviceLocator, BankLabel, Manufacturer, SerialNumber, PartNumber, Speed, ConfiguredClockSpeed, SMBIOSMemoryType, FormFactor
  MemoryArray = Cim Win32_PhysicalMemoryArray MemoryErrorCorrection, MemoryDevices
  PageFiles = Cim Win32_PageFileUsage Name, AllocatedBaseSize
  Disks = Cim Win32_DiskDrive Index, DeviceID, Model, SerialNumber, Size, InterfaceType, MediaType, FirmwareRevision
  PhysicalDisks = Cim MSFT_PhysicalDisk DeviceId, BusType, MediaType 'root/Microsoft/Windows/Storage'
  LogicalDisks = Cim Win32_LogicalDisk DeviceID, DriveType, FileSystem, Size, FreeSpace, VolumeName, VolumeSerialNumber, ProviderName, Description
  NetworkConfigs = Cim Win32_NetworkAdapterConfiguration Index, Description, MACAddress, IPAddress, IPSubnet, DefaultIPGateway, DHCPEnabled, DHCPServer, DNSServerSearchOrder, DNSDomain 'root/cimv2' 'IPEnabled = True'
  NetworkAdapters = Cim Win32_NetworkAdapter Index, NetConnectionID, Name, MACAddress, Speed, NetConnectionStatus, Manufacturer, PNPDeviceID, PhysicalAdapter 'root/cimv2' 'PhysicalAdapter = True'
  Antivirus = Cim AntiVirusProduct displayName, instanceGuid, productState, pathToSignedProductExe 'root/SecurityCenter2'
  Defender = Get-MpComputerStatus | Select-Object AMProductVersion, AntivirusEnabled, RealTimeProtectionEnabled, AntivirusSignatureVersion, AntivirusSignatureLastUpdated
  Batteries = Cim BatteryStaticData DeviceName, ManufactureName, SerialNumber, Chemistry, DesignedCapacity, InstanceName 'root/wmi'
  BatteryCapacities = Cim BatteryFullChargedCapacity FullChargedCapacity, InstanceName 'root/wmi'
  BatteryVoltages = Cim Win32_Battery DesignVoltage
  Monitors = Cim WmiMonitorID ManufacturerName, UserFriendlyName, SerialNumberID, YearOfManufacture, WeekOfManufacture 'root/wmi'
  Printers = Cim Win32_Printer Name, DriverName, PortName, Network, Shared, ShareName, ServerName, Comment
  Hotfixes = @(Get-HotFix | Select-Object HotFixID, Description, InstalledOn)
  Software = $apps
  SoftwareOwners = $owners
  SignedIn = $signedIn
  LocalUsers = Cim Win32_UserAccount Name, FullName, SID, Disabled 'root/cimv2' 'LocalAccount = True'
} | ConvertTo-Json -Depth 4 -Compress
`;

/** `powershell.exe -EncodedCommand` takes the script as base64 of its UTF-16LE bytes. */
export function encodedCommand(script: string = WINDOWS_INVENTORY_SCRIPT): string {
  return Buffer.from(script, "utf16le").toString("base64");
}
