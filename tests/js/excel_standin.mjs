// A stand-in for Excel running xlplan's custom functions, for tests and benchmarks.
//
//   node tests/js/excel_standin.mjs <server URL> <cells.json> [--token T] [--repeat N] [--pause]
//
// Loads <server URL>/functions.js as Excel's shared runtime would (in a node:vm
// context holding a CustomFunctions object with associate, Error and ErrorCode),
// checks every function of /functions.json was registered, then recalculates the
// cells the way Excel does: every cell's function called back to back in one tick,
// each with its invocation {address} last, and all the promises awaited.
//
// cells.json is a list of {"address": "Sheet1!A1", "name": "OPT_PARAMS", "args": [...]}.
// Arguments go as Excel passes them: numbers, strings, 2-D arrays for ranges, null for
// a blank argument; arguments left out at the end arrive as undefined.
//
// Prints one JSON report on stdout: the registered names, the outcome of every cell
// of the last recalculation ({address, value} or {address, error: {code, message}},
// or {address, thrown} for a rejection Excel would not understand), the time of each
// recalculation from the first call to the last settled promise, xlplan.stats, and
// every timer delay the add-in asked for (timerDelays: its request time limits among them).
// --repeat N recalculates N times (for timing); --pause waits for a line on stdin
// after loading and before recalculating (printing "loaded" on stderr), so a test can
// stop the server in between. Exit status 2 when a function of /functions.json was
// not registered, 1 when the add-in cannot be loaded.

import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import vm from "node:vm";

// CustomFunctions.ErrorCode, with the values Excel gives it.
const ERROR_CODE = Object.freeze({
  invalidValue: "#VALUE!",
  notAvailable: "#N/A",
  divisionByZero: "#DIV/0!",
  invalidNumber: "#NUM!",
  nullReference: "#NULL!",
  invalidName: "#NAME?",
  invalidReference: "#REF!",
});

class CustomFunctionsError extends Error {
  constructor(code, message) {
    // Excel accepts only its own codes; anything else is a bug in the add-in.
    if (!Object.values(ERROR_CODE).includes(code)) {
      throw new TypeError(`CustomFunctions.Error: ${code} is not a CustomFunctions.ErrorCode`);
    }
    super(message);
    this.code = code;
  }
}

function parseOptions(argv) {
  const [url, cellsFile, ...rest] = argv;
  if (!url || !cellsFile) {
    throw new Error("usage: excel_standin.mjs <server URL> <cells.json> "
                    + "[--token T] [--repeat N] [--pause]");
  }
  const options = { url: url.replace(/\/+$/, ""), cellsFile, token: null, repeat: 1, pause: false };
  for (let i = 0; i < rest.length; i += 1) {
    if (rest[i] === "--token") options.token = rest[++i];
    else if (rest[i] === "--repeat") options.repeat = Number(rest[++i]);
    else if (rest[i] === "--pause") options.pause = true;
    else throw new Error(`unknown option ${rest[i]}`);
  }
  return options;
}

/* GET a file of the add-in as Office does: the token, if any, in the query. */
async function fetchAddinFile(options, name) {
  const url = new URL(`${options.url}/${name}`);
  if (options.token) url.searchParams.set("token", options.token);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`GET ${options.url}/${name}: HTTP ${response.status} ${await response.text()}`);
  }
  return response.text();
}

/* Run functions.js in a fresh context where only Excel's CustomFunctions API exists. */
function loadAddin(script) {
  const registered = new Map();
  const duplicates = [];
  const batchPosts = { count: 0 };
  const customFunctions = {
    associate(id, fn) {
      if (typeof fn !== "function") throw new TypeError(`associate(${id}): not a function`);
      if (registered.has(id)) duplicates.push(id);
      registered.set(id, fn);
    },
    Error: CustomFunctionsError,
    ErrorCode: ERROR_CODE,
  };
  // The fetch the add-in sees also counts the POSTs that really leave it.
  const countingFetch = (url, init) => {
    if (String(url).endsWith("/batch")) batchPosts.count += 1;
    return fetch(url, init);
  };
  // setTimeout as a browser's, noting every delay the add-in asks for (its request
  // time limits among them), so a test can check which limit each request got.
  const timerDelays = new Set();
  const notingSetTimeout = (callback, delay, ...rest) => {
    timerDelays.add(delay);
    return setTimeout(callback, delay, ...rest);
  };
  // What a browser gives a page, and Excel's CustomFunctions.
  const context = vm.createContext({
    CustomFunctions: customFunctions, fetch: countingFetch, setTimeout: notingSetTimeout,
    clearTimeout, console, AbortController, TextEncoder,
  });
  vm.runInContext(script, context, { filename: "functions.js" });
  return { registered, duplicates, batchPosts, timerDelays, xlplan: context.xlplan };
}

/* The arguments Excel passes: the cell's, then undefined for each one left out. */
function excelArguments(cell, spec) {
  const args = cell.args.slice();
  while (spec && args.length < spec.params) args.push(undefined);
  return [...args, { address: cell.address }];
}

function outcome(cell, settled) {
  if (settled.status === "fulfilled") return { address: cell.address, value: settled.value };
  const reason = settled.reason;
  if (reason instanceof CustomFunctionsError) {
    return { address: cell.address, error: { code: reason.code, message: reason.message || null } };
  }
  return { address: cell.address, thrown: String(reason) };
}

/* One recalculation: every cell called in the same tick, then all promises awaited. */
async function recalculate(addin, cells, specs) {
  const before = { ...pickStats(addin.xlplan.stats) };
  const start = performance.now();
  const pending = cells.map((cell) => {
    // cells name the Python function; the add-in registers its Office id (XLPLAN_LAW: LAW)
    const spec = specs.get(cell.name);
    const fn = addin.registered.get(spec ? spec.id : cell.name);
    if (!fn) return Promise.reject(new Error(`${cell.name} is not registered`));
    try {
      return Promise.resolve(fn(...excelArguments(cell, specs.get(cell.name))));
    } catch (problem) {
      return Promise.reject(problem);
    }
  });
  const settled = await Promise.allSettled(pending);
  const elapsedMs = performance.now() - start;
  const after = pickStats(addin.xlplan.stats);
  return {
    elapsedMs,
    requests: after.requests - before.requests,
    calls: after.calls - before.calls,
    cells: cells.map((cell, i) => outcome(cell, settled[i])),
  };
}

function pickStats(stats) {
  return { requests: stats.requests, calls: stats.calls };
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const cells = JSON.parse(await readFile(options.cellsFile, "utf8"));
  let addin, metadata;
  try {
    addin = loadAddin(await fetchAddinFile(options, "functions.js"));
    metadata = JSON.parse(await fetchAddinFile(options, "functions.json"));
  } catch (problem) {
    process.stderr.write(`excel_standin: cannot load the add-in: ${problem.message}\n`);
    process.exitCode = 1;
    return;
  }
  const config = addin.xlplan.config;
  const specs = new Map(config.functions.map((spec) => [spec.name, spec]));
  const unregistered = metadata.functions.map((f) => f.id)
    .filter((id) => !addin.registered.has(id));

  if (options.pause) {
    process.stderr.write("loaded\n");
    await Promise.race([once(process.stdin, "data"), once(process.stdin, "end")]);
    process.stdin.destroy();
  }
  const recalcs = [];
  for (let i = 0; i < options.repeat; i += 1) recalcs.push(await recalculate(addin, cells, specs));
  const last = recalcs[recalcs.length - 1];

  const stats = addin.xlplan.stats;
  const report = {
    registered: [...addin.registered.keys()],
    duplicates: addin.duplicates,
    unregistered,
    config: { url: config.url, version: config.version, hasToken: Boolean(config.token),
              batchWindowMs: config.batchWindowMs, maxBatch: config.maxBatch,
              maxBodyBytes: config.maxBodyBytes, timeoutMs: config.timeoutMs,
              slowTimeoutMs: config.slowTimeoutMs },
    recalcs: recalcs.map(({ elapsedMs, requests, calls }) => ({ elapsedMs, requests, calls })),
    cells: last ? last.cells : [],
    stats: { requests: stats.requests, calls: stats.calls, batchPosts: addin.batchPosts.count },
    timerDelays: [...addin.timerDelays].sort((a, b) => a - b),
    recentErrors: stats.errors.map(({ address, code, message }) => ({ address, code, message })),
  };
  process.stdout.write(JSON.stringify(report) + "\n");
  if (unregistered.length > 0) {
    process.stderr.write(`excel_standin: not registered: ${unregistered.join(", ")}\n`);
    process.exitCode = 2;
  }
}

await main();
