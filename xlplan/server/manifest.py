"""The Office add-in manifest (add-in only XML manifest; custom functions need it).

Custom functions with a shared runtime: ``taskpane.html`` is the one long-lived
page that loads ``functions.js``, and Excel reads ``functions.json`` for the
names and argument help. Office requires a namespace for custom functions, so
in Excel on the web and in Office add-ins the functions read ``XLPLAN.OPT_PARAMS``;
the xlwings route gives the bare names.
"""

import uuid
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from .. import __version__
from ..excel.registry import NAMESPACE
from .icons import ICON_SIZES

__all__ = ["manifest_xml", "NAMESPACE", "add_in_id"]

_ID_NAMESPACE = uuid.UUID("5f0b7a4e-1c1e-4b7e-9a55-7c1a2d0e9b31")


def add_in_id(base_url):
    """A stable add-in id per server address, so sideloading again replaces, not duplicates."""
    return str(uuid.uuid5(_ID_NAMESPACE, base_url))


def _url(base_url, path, token):
    url = f"{base_url}/{path}"
    return f"{url}?token={quote(token, safe='')}" if token else url


def _office_version(version):
    """Office wants four numeric parts: 0.1.0 -> 0.1.0.0."""
    parts = [p for p in version.split(".") if p.isdigit()][:4]
    return ".".join(parts + ["0"] * (4 - len(parts)))


def manifest_xml(base_url, token=None):
    """The manifest text for an xlplan server reachable at ``base_url`` (no trailing /)."""

    def url(path):
        return quoteattr(_url(base_url, path, token))

    icons = "\n".join(
        f'        <bt:Image id="Icon.{s}" DefaultValue={url(f"icon-{s}.png")}/>' for s in ICON_SIZES
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
           xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
           xmlns:ov="http://schemas.microsoft.com/office/taskpaneappversionoverrides"
           xsi:type="TaskPaneApp">
  <Id>{add_in_id(base_url)}</Id>
  <Version>{_office_version(__version__)}</Version>
  <ProviderName>xlplan</ProviderName>
  <DefaultLocale>en-US</DefaultLocale>
  <DisplayName DefaultValue="xlplan"/>
  <Description DefaultValue="Inference-aware LLM sizing (Sardana et al. 2024): OPT_PARAMS, COST_OPT, FIT_COEFFS and more as Excel functions."/>
  <IconUrl DefaultValue={url("icon-32.png")}/>
  <HighResolutionIconUrl DefaultValue={url("icon-64.png")}/>
  <SupportUrl DefaultValue={url("taskpane.html")}/>
  <AppDomains>
    <AppDomain>{escape(base_url)}</AppDomain>
  </AppDomains>
  <Hosts>
    <Host Name="Workbook"/>
  </Hosts>
  <Requirements>
    <Sets DefaultMinVersion="1.1">
      <Set Name="SharedRuntime" MinVersion="1.1"/>
    </Sets>
  </Requirements>
  <DefaultSettings>
    <SourceLocation DefaultValue={url("taskpane.html")}/>
  </DefaultSettings>
  <Permissions>ReadWriteDocument</Permissions>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/taskpaneappversionoverrides" xsi:type="VersionOverridesV1_0">
    <Hosts>
      <Host xsi:type="Workbook">
        <Runtimes>
          <Runtime resid="Taskpane.Url" lifetime="long"/>
        </Runtimes>
        <AllFormFactors>
          <ExtensionPoint xsi:type="CustomFunctions">
            <Script>
              <SourceLocation resid="Functions.Script.Url"/>
            </Script>
            <Page>
              <SourceLocation resid="Taskpane.Url"/>
            </Page>
            <Metadata>
              <SourceLocation resid="Functions.Metadata.Url"/>
            </Metadata>
            <Namespace resid="Functions.Namespace"/>
          </ExtensionPoint>
        </AllFormFactors>
        <DesktopFormFactor>
          <GetStarted>
            <Title resid="GetStarted.Title"/>
            <Description resid="GetStarted.Description"/>
            <LearnMoreUrl resid="Taskpane.Url"/>
          </GetStarted>
          <FunctionFile resid="Taskpane.Url"/>
          <ExtensionPoint xsi:type="PrimaryCommandSurface">
            <OfficeTab id="TabHome">
              <Group id="xlplan.Group">
                <Label resid="Group.Label"/>
                <Icon>
                  <bt:Image size="16" resid="Icon.16"/>
                  <bt:Image size="32" resid="Icon.32"/>
                  <bt:Image size="80" resid="Icon.80"/>
                </Icon>
                <Control xsi:type="Button" id="xlplan.TaskpaneButton">
                  <Label resid="Button.Label"/>
                  <Supertip>
                    <Title resid="Button.Label"/>
                    <Description resid="Button.Tooltip"/>
                  </Supertip>
                  <Icon>
                    <bt:Image size="16" resid="Icon.16"/>
                    <bt:Image size="32" resid="Icon.32"/>
                    <bt:Image size="80" resid="Icon.80"/>
                  </Icon>
                  <Action xsi:type="ShowTaskpane">
                    <SourceLocation resid="Taskpane.Url"/>
                  </Action>
                </Control>
              </Group>
            </OfficeTab>
          </ExtensionPoint>
        </DesktopFormFactor>
      </Host>
    </Hosts>
    <Resources>
      <bt:Images>
{icons}
      </bt:Images>
      <bt:Urls>
        <bt:Url id="Functions.Script.Url" DefaultValue={url("functions.js")}/>
        <bt:Url id="Functions.Metadata.Url" DefaultValue={url("functions.json")}/>
        <bt:Url id="Taskpane.Url" DefaultValue={url("taskpane.html")}/>
      </bt:Urls>
      <bt:ShortStrings>
        <bt:String id="Functions.Namespace" DefaultValue="{NAMESPACE}"/>
        <bt:String id="GetStarted.Title" DefaultValue="xlplan functions are ready"/>
        <bt:String id="Group.Label" DefaultValue="xlplan"/>
        <bt:String id="Button.Label" DefaultValue="xlplan"/>
      </bt:ShortStrings>
      <bt:LongStrings>
        <bt:String id="GetStarted.Description" DefaultValue="Type =XLPLAN.OPT_PARAMS(2.1, 1E12) in a cell."/>
        <bt:String id="Button.Tooltip" DefaultValue="Show xlplan's functions, the server status and recent errors."/>
      </bt:LongStrings>
    </Resources>
  </VersionOverrides>
</OfficeApp>
"""
