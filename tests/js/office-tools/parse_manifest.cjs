// Parse an add-in manifest with Office's own parser (OSF.Manifest.OfficeAppManifest, shipped in
// office-addin-manifest-converter's lib/osfmos.js) and print, as JSON, what Excel would run:
// the runtime behind the CustomFunctions extension point and behind each ShowTaskpane button.
// Usage: node parse_manifest.cjs manifest.xml
const fs = require("fs");
const { OSF } = require("office-addin-manifest-converter/lib/osfmos");
// In Node the parser needs xmldom instead of a browser DOM; the package's converter does this.
require("office-addin-manifest-converter/lib/osfUtils").Utils.OverrideMethods();

function showTaskpaneActions(node, found) {
  if (node == null || typeof node !== "object") return found;
  if (node.actionType === "ShowTaskpane" && node.action) found.push(node);
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach((child) => showTaskpaneActions(child, found));
  }
  return found;
}

// osfmos.js's RuntimeLifeTime enum (not exported): Short = 0, Long = 1
const LIFETIMES = ["short", "long"];

function runtime(host, resid) {
  const found = host._runtimes ? host._runtimes.getSharedRuntime(resid) : null;
  return found ? { resid: found.Resid, lifetime: LIFETIMES[found.LifeTime] } : null;
}

function report(xml) {
  const manifest = new OSF.Manifest.OfficeAppManifest(xml, "en-US", 0);
  const host = manifest._versionOverrides.Workbook;
  const desktop = (host._addinCommandsExtensionPoints || {}).DesktopFormFactor || [];
  return {
    ok: true,
    customFunctions: manifest.containsCustomFunctions("Workbook"),
    functionsRuntime: runtime(host, host._customFunctionExtensionPoint.pageResId),
    buttons: showTaskpaneActions({ children: desktop }, []).map((control) => ({
      id: control.id,
      taskpaneId: control.action.taskpaneId ?? null,
      runtime: runtime(host, control.action.sourceLocationResid),
    })),
  };
}

let out;
const messages = [];
const error = console.error;
console.error = (...args) => messages.push(args.join(" "));  // the parser logs its reasons
try {
  out = report(fs.readFileSync(process.argv[2], "utf8"));
} catch (e) {
  out = { ok: false, error: String((e && e.message) || e), log: messages };
}
console.error = error;
process.stdout.write(JSON.stringify(out) + "\n");
