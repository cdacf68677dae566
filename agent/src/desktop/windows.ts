/**
 * @module agent/desktop/windows
 * Dialogs on Windows, where the agent runs as SYSTEM in session 0 and cannot draw on the
 * user's desktop. The agent writes two PowerShell scripts in a folder of its own under
 * %ProgramData%\Medulla\dialogs\<id>:
 *
 *  - `dialog.ps1`, run **as the interactive user in their session**: a small always-on-top
 *    Windows Forms window (the text, two buttons, a countdown; it gives up after the
 *    step's timeout) that writes its answer — `yes`, `no` or `timeout` — to
 *    `answer\answer.txt` (the only place the user is given write access to);
 *    for notifications, a tray balloon shown for the timeout;
 *  - `launch.ps1`, run by the agent as SYSTEM: it lets the user write the answer file,
 *    registers a one-off scheduled task for that user with logon type Interactive (the
 *    task starts in the user's console session, without their password), starts it,
 *    waits for the answer file until the timeout (plus a margin), removes the task and
 *    prints the answer.
 *
 * Every descriptor string is a PowerShell single-quoted literal (./escape.ts psString):
 * nothing in it is expanded. The active sessions come from `quser` (parsed here; its
 * column titles are localised, so only positions and the session id are relied upon).
 * Not run on this project's CI (Linux): the generated scripts are unit-tested.
 */
import { oneLine, psString } from "./escape.ts";
import type { Prompt } from "./prompt.ts";

export interface WindowsSession {
  user: string;
  sessionName: string;
  id: number;
  /** quser's STATE column as printed ("Active", "Actif", "Disc", …). */
  state: string;
}

/**
 * `quser` output: a header line, then one line per session, the current one marked with
 * ">"; a disconnected session has no SESSIONNAME. Console and RDP sessions that are not
 * disconnected are the interactive ones.
 */
export function parseQuser(text: string): WindowsSession[] {
  const out: WindowsSession[] = [];
  const lines = text.replace(/\r/g, "").split("\n");
  for (const raw of lines.slice(1)) {
    const line = raw.replace(/^[ >]/, "");
    const m = /^(\S{1,104})\s+(?:(\S+)\s+)?(\d{1,5})\s+(\S+)\s/.exec(`${line} `);
    if (!m) continue;
    out.push({ user: m[1]!, sessionName: m[2] ?? "", id: Number(m[3]), state: m[4]! });
  }
  return out;
}

/**
 * `(Get-CimInstance Win32_ComputerSystem).UserName` — the console user as `DOMAIN\user`, or
 * nothing at the logon screen; the fallback where `quser` does not exist (Windows Home).
 */
export function parseCimUser(text: string): WindowsSession[] {
  const m = /^\s*([^\s\\/:*?"<>|]{1,64}\\)?([^\s\\/:*?"<>|]{1,104})\s*$/.exec(text.replace(/\r/g, "").split("\n").find((l) => l.trim()) ?? "");
  return m ? [{ user: `${m[1] ?? ""}${m[2]}`, sessionName: "console", id: 1, state: "Active" }] : [];
}

export const CIM_USER_COMMAND = ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "(Get-CimInstance Win32_ComputerSystem).UserName"];

export const interactiveSessions = (s: WindowsSession[]) => s.filter((x) => x.sessionName !== "" && !/^disc/i.test(x.state) && x.id > 0);

/** The script the user's session runs: the dialog (or balloon) that writes its answer. */
export function dialogScript(p: Prompt, answerFile: string): string {
  const seconds = Math.max(0, Math.ceil(p.timeoutSeconds));
  const head = [
    "$ErrorActionPreference = 'Stop'",
    "Add-Type -AssemblyName System.Windows.Forms",
    "Add-Type -AssemblyName System.Drawing",
    `$answerFile = ${psString(answerFile, 1024)}`,
    `$title = ${psString(oneLine(p.title), 200)}`,
    `$text = ${psString(p.text)}`,
  ];
  if (p.kind === "kiosk_notify" || p.kind === "user_notify") {
    return [
      ...head,
      "$icon = New-Object System.Windows.Forms.NotifyIcon",
      "$icon.Icon = [System.Drawing.SystemIcons]::Information",
      "$icon.Visible = $true",
      `$icon.ShowBalloonTip(${(seconds || 10) * 1000}, $title, $text, [System.Windows.Forms.ToolTipIcon]::Info)`,
      `Start-Sleep -Seconds ${Math.min(seconds || 10, 60)}`,
      "$icon.Dispose()",
      "Set-Content -LiteralPath $answerFile -Value 'shown' -Encoding ASCII",
      "",
    ].join("\r\n");
  }
  return [
    ...head,
    `$yes = ${psString(oneLine(p.yes || "Yes", 60), 60)}`,
    `$no = ${psString(oneLine(p.no || "No", 60), 60)}`,
    `$seconds = ${seconds}`,
    "$script:answer = ''",
    "$form = New-Object System.Windows.Forms.Form",
    "$form.Text = $title",
    "$form.TopMost = $true",
    "$form.StartPosition = 'CenterScreen'",
    "$form.FormBorderStyle = 'FixedDialog'",
    "$form.MaximizeBox = $false",
    "$form.MinimizeBox = $false",
    "$form.AutoSize = $true",
    "$form.AutoSizeMode = 'GrowAndShrink'",
    "$form.Padding = New-Object System.Windows.Forms.Padding(12)",
    "$panel = New-Object System.Windows.Forms.FlowLayoutPanel",
    "$panel.FlowDirection = 'TopDown'",
    "$panel.AutoSize = $true",
    "$label = New-Object System.Windows.Forms.Label",
    "$label.UseMnemonic = $false",
    "$label.MaximumSize = New-Object System.Drawing.Size(440, 0)",
    "$label.AutoSize = $true",
    "$label.Text = $text",
    "$count = New-Object System.Windows.Forms.Label",
    "$count.AutoSize = $true",
    "$buttons = New-Object System.Windows.Forms.FlowLayoutPanel",
    "$buttons.AutoSize = $true",
    "$b1 = New-Object System.Windows.Forms.Button",
    "$b1.UseMnemonic = $false",
    "$b1.AutoSize = $true",
    "$b1.Text = $yes",
    "$b1.Add_Click({ $script:answer = 'yes'; $form.Close() })",
    "$b2 = New-Object System.Windows.Forms.Button",
    "$b2.UseMnemonic = $false",
    "$b2.AutoSize = $true",
    "$b2.Text = $no",
    "$b2.Add_Click({ $script:answer = 'no'; $form.Close() })",
    // The negative answer first, with the focus (a stray Enter does not install), as on Linux.
    "$buttons.Controls.AddRange(@($b2, $b1))",
    "$panel.Controls.AddRange(@($label, $count, $buttons))",
    "$form.Controls.Add($panel)",
    "$form.ActiveControl = $b2",
    "$left = $seconds",
    "$timer = New-Object System.Windows.Forms.Timer",
    "$timer.Interval = 1000",
    "$timer.Add_Tick({ $script:left--; $count.Text = [string]$script:left + ' s'; if ($script:left -le 0) { $timer.Stop(); $script:answer = 'timeout'; $form.Close() } })",
    "if ($seconds -gt 0) { $count.Text = [string]$seconds + ' s'; $timer.Start() }",
    "[void]$form.ShowDialog()",
    "if ($script:answer -eq '') { $script:answer = 'dismissed' }",
    "Set-Content -LiteralPath $answerFile -Value $script:answer -Encoding ASCII",
    "",
  ].join("\r\n");
}

/** The script the agent runs as SYSTEM: a one-off interactive task for `user` that runs dialog.ps1, then the answer. */
export function launchScript(o: { user: string; dir: string; taskName: string; timeoutSeconds: number }): string {
  const wait = Math.max(30, Math.ceil(o.timeoutSeconds) + 30);
  return [
    "$ErrorActionPreference = 'Stop'",
    `$dir = ${psString(o.dir, 1024)}`,
    `$user = ${psString(o.user, 200)}`,
    `$task = ${psString(o.taskName, 200)}`,
    "$answerDir = Join-Path $dir 'answer'",
    "$answer = Join-Path $answerDir 'answer.txt'",
    "$dialog = Join-Path $dir 'dialog.ps1'",
    // The user may write its answer in answer\ only: never in the folder of this script, which runs as SYSTEM.
    "New-Item -ItemType Directory -Force -Path $answerDir | Out-Null",
    // Read (the dialog script; the agent's own folder may be closed to users: traverse checking is bypassed by default).
    "& icacls.exe $dir /grant \"${user}:(OI)(CI)RX\" | Out-Null",
    "& icacls.exe $answerDir /grant \"${user}:(OI)(CI)M\" | Out-Null",
    "$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -File \"' + $dialog + '\"')",
    "$principal = New-ScheduledTaskPrincipal -UserId $user -LogonType Interactive -RunLevel Limited",
    "$settings = New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Seconds " + String(wait) + ")",
    "Register-ScheduledTask -TaskName $task -TaskPath '\\Medulla\\' -Action $action -Principal $principal -Settings $settings -Force | Out-Null",
    "try {",
    "  Start-ScheduledTask -TaskName $task -TaskPath '\\Medulla\\'",
    `  $deadline = (Get-Date).AddSeconds(${wait})`,
    "  while (-not (Test-Path -LiteralPath $answer) -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 500 }",
    "  if (Test-Path -LiteralPath $answer) { Write-Output ('answer=' + (Get-Content -LiteralPath $answer -TotalCount 1).Trim()) } else { Write-Output 'answer=timeout' }",
    "} finally {",
    "  Unregister-ScheduledTask -TaskName $task -TaskPath '\\Medulla\\' -Confirm:$false -ErrorAction SilentlyContinue",
    "}",
    "",
  ].join("\r\n");
}

/** The command the agent runs for launch.ps1. */
export const launchCommand = (file: string) => ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", file];

/** launch.ps1's output → the answer. */
export function parseLaunchOutput(text: string): "yes" | "no" | "timeout" | "dismissed" | "shown" | "error" {
  const m = /^answer=(yes|no|timeout|dismissed|shown)\s*$/m.exec(text);
  return (m?.[1] as "yes" | "no" | "timeout" | "dismissed" | "shown") ?? "error";
}
