; The Windows installer of dfuse, built on Linux with NSIS (packaging/windows/build):
; dfuse.exe on PATH, dfuse-gui.exe with a Start-menu entry and its icon, the WinUSB
; driver package (optional, on by default), and an uninstaller that removes all of it.
;
; makensis -DVERSION=0.1.0 -DSTAGE=<folder with the files> -DOUT=<installer.exe> dfuse.nsi

; A 64-bit installer for 64-bit programs (and it runs where only 64-bit Wine is installed).
Target amd64-unicode
!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "StrFunc.nsh"
!include "WinMessages.nsh"
${StrStr}
${UnStrRep}

!define APP "dfuse"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\dfuse"
!define ENVIRONMENT "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"

Name "dfuse ${VERSION}"
OutFile "${OUT}"
InstallDir "$PROGRAMFILES64\dfuse"
InstallDirRegKey HKLM "${UNINSTALL_KEY}" "InstallLocation"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
Icon "${STAGE}\dfuse.ico"
UninstallIcon "${STAGE}\dfuse.ico"

!define MUI_ICON "${STAGE}\dfuse.ico"
!define MUI_UNICON "${STAGE}\dfuse.ico"
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; A machine-wide install: the Start-menu entries are everyone's.
Function .onInit
    SetShellVarContext all
FunctionEnd

Function un.onInit
    SetShellVarContext all
FunctionEnd

Section "dfuse and dfuse-gui" SecProgram
    SectionIn RO
    SetOutPath "$INSTDIR"
    File "${STAGE}\dfuse.exe"
    File "${STAGE}\dfuse-gui.exe"
    File "${STAGE}\dfuse.ico"
    File "${STAGE}\README.md"
    WriteUninstaller "$INSTDIR\uninstall.exe"
    CreateDirectory "$SMPROGRAMS\dfuse"
    CreateShortCut "$SMPROGRAMS\dfuse\dfuse.lnk" "$INSTDIR\dfuse-gui.exe" "" "$INSTDIR\dfuse-gui.exe" 0
    CreateShortCut "$SMPROGRAMS\dfuse\Uninstall dfuse.lnk" "$INSTDIR\uninstall.exe"
    ; dfuse.exe on PATH (the machine's), once.
    ReadRegStr $0 HKLM "${ENVIRONMENT}" "Path"
    ${StrStr} $1 "$0;" "$INSTDIR;"
    ${If} $1 == ""
        ${If} $0 == ""
            WriteRegExpandStr HKLM "${ENVIRONMENT}" "Path" "$INSTDIR"
        ${Else}
            WriteRegExpandStr HKLM "${ENVIRONMENT}" "Path" "$0;$INSTDIR"
        ${EndIf}
        SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
    ${EndIf}
    WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "dfuse"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\dfuse-gui.exe"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
    WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
    WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
    WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
    WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

; `dfuse driver install` signs the WinUSB package for this computer and installs it (the
; installer already runs as administrator). The INF and the README (with Zadig, the fallback)
; are copied too. A failure is reported and does not stop the installation.
Section "WinUSB driver for DfuSe boards" SecDriver
    SetOutPath "$INSTDIR\driver"
    File "${STAGE}\driver\dfuse-winusb.inf"
    File "${STAGE}\driver\README.md"
    CreateShortCut "$SMPROGRAMS\dfuse\WinUSB driver (how to install).lnk" "$INSTDIR\driver\README.md"
    DetailPrint "Installing the WinUSB driver: dfuse driver install"
    nsExec::ExecToLog '"$INSTDIR\dfuse.exe" driver install'
    Pop $0
    ${If} $0 == 0
        WriteRegDWORD HKLM "${UNINSTALL_KEY}" "DriverInstalled" 1
    ${Else}
        DetailPrint "The WinUSB driver was not installed (dfuse exited with $0). Run 'dfuse driver install' as administrator later, or see driver\README.md (Zadig)."
    ${EndIf}
SectionEnd

LangString DESC_PROGRAM ${LANG_ENGLISH} "The dfuse command line (on PATH) and the dfuse-gui window (Start menu)."
LangString DESC_DRIVER ${LANG_ENGLISH} "Binds Windows' own WinUSB driver to DfuSe boards (dfuse driver install): signs the package with a certificate made for this computer alone and trusts it."
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
    !insertmacro MUI_DESCRIPTION_TEXT ${SecProgram} $(DESC_PROGRAM)
    !insertmacro MUI_DESCRIPTION_TEXT ${SecDriver} $(DESC_DRIVER)
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Section "Uninstall"
    ; The driver package and dfuse's certificates go first, while dfuse.exe is still here.
    ReadRegDWORD $0 HKLM "${UNINSTALL_KEY}" "DriverInstalled"
    ${If} $0 == 1
        nsExec::ExecToLog '"$INSTDIR\dfuse.exe" driver uninstall'
        Pop $0
    ${EndIf}
    Delete "$INSTDIR\dfuse.exe"
    Delete "$INSTDIR\dfuse-gui.exe"
    Delete "$INSTDIR\dfuse.ico"
    Delete "$INSTDIR\README.md"
    Delete "$INSTDIR\driver\dfuse-winusb.inf"
    Delete "$INSTDIR\driver\README.md"
    RMDir "$INSTDIR\driver"
    Delete "$INSTDIR\uninstall.exe"
    RMDir "$INSTDIR"
    Delete "$SMPROGRAMS\dfuse\dfuse.lnk"
    Delete "$SMPROGRAMS\dfuse\Uninstall dfuse.lnk"
    Delete "$SMPROGRAMS\dfuse\WinUSB driver (how to install).lnk"
    RMDir "$SMPROGRAMS\dfuse"
    ReadRegStr $0 HKLM "${ENVIRONMENT}" "Path"
    ${UnStrRep} $0 "$0" ";$INSTDIR" ""
    ${UnStrRep} $0 "$0" "$INSTDIR" ""
    WriteRegExpandStr HKLM "${ENVIRONMENT}" "Path" "$0"
    SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
    DeleteRegKey HKLM "${UNINSTALL_KEY}"
SectionEnd
