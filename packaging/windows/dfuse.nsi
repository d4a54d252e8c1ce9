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

; Until `dfuse driver install` exists, the package and how to bind it (Zadig) are copied.
Section "WinUSB driver package" SecDriver
    SetOutPath "$INSTDIR\driver"
    File "${STAGE}\driver\dfuse-winusb.inf"
    File "${STAGE}\driver\README.md"
    CreateShortCut "$SMPROGRAMS\dfuse\WinUSB driver (how to install).lnk" "$INSTDIR\driver\README.md"
SectionEnd

LangString DESC_PROGRAM ${LANG_ENGLISH} "The dfuse command line (on PATH) and the dfuse-gui window (Start menu)."
LangString DESC_DRIVER ${LANG_ENGLISH} "The WinUSB driver package for DfuSe boards and how to bind it."
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
    !insertmacro MUI_DESCRIPTION_TEXT ${SecProgram} $(DESC_PROGRAM)
    !insertmacro MUI_DESCRIPTION_TEXT ${SecDriver} $(DESC_DRIVER)
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Section "Uninstall"
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
