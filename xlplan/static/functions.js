/*
 * xlplan custom functions for Excel (Office add-in, shared runtime).
 *
 * Every function in XLPLAN_SERVER.functions is registered with Excel. A call is
 * not sent on its own: it joins a queue, and all calls made within one short
 * window (one recalculation) go to the server in one POST /batch request, the
 * batching pattern Microsoft documents for custom functions that call a remote
 * service. A batch stays within the server's limits (calls and bytes per request);
 * a slow function (FIT_COEFFS) goes in a request of its own, so it never holds up
 * the cheap cells of the same recalculation. An error answer becomes a CustomFunctions.Error, so the cell shows
 * #NUM! or #VALUE!; the message is shown on hover where Excel allows it
 * (#VALUE!, #N/A) and always in the task pane's list of recent errors.
 *
 * A request gives up (its cells show #N/A) only a little after the longest the
 * server can take to answer it: timeoutMs for cheap calls, slowTimeoutMs for a
 * slow one, which may first wait its turn for a worker before its own time limit
 * starts; the server answers within both (it refuses a call that waited too long).
 *
 * XLPLAN_SERVER (url, token, functions, batchWindowMs, maxBatch, maxBodyBytes,
 * timeoutMs, slowTimeoutMs) is written above this comment by the server that
 * serves this file.
 */
(function (global) {
  "use strict";

  var config = global.XLPLAN_SERVER;
  var RECENT_ERRORS = 50;
  var queue = [];
  var timer = null;
  var stats = { requests: 0, calls: 0, errors: [] };

  function isInvocation(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function matrix(value) {
    if (value === undefined || value === null) return [[null]];
    if (!Array.isArray(value)) return [[value]];
    return value.map(function (row) { return Array.isArray(row) ? row : [row]; });
  }

  function isMissing(value) {
    return value === undefined || value === null;
  }

  /* The arguments Excel passed, as one 2-D matrix each; trailing omitted optionals dropped. */
  function callArguments(spec, values) {
    var args = values.slice(0, spec.params);
    var count = args.length;
    while (count > spec.required && isMissing(args[count - 1])) count -= 1;
    return args.slice(0, count).map(matrix);
  }

  function errorCode(code) {
    var codes = global.CustomFunctions.ErrorCode;
    if (code === "#NUM!") return codes.invalidNumber;
    if (code === "#VALUE!") return codes.invalidValue;
    return codes.notAvailable;
  }

  function cellError(code, message, address) {
    stats.errors.unshift({ address: address || "", code: code, message: message, at: Date.now() });
    stats.errors.length = Math.min(stats.errors.length, RECENT_ERRORS);
    var excelCode = errorCode(code);
    var codes = global.CustomFunctions.ErrorCode;
    // Excel shows a custom message only with #VALUE! and #N/A.
    var withMessage = excelCode === codes.invalidValue || excelCode === codes.notAvailable;
    return withMessage ? new global.CustomFunctions.Error(excelCode, message)
                       : new global.CustomFunctions.Error(excelCode);
  }

  function settle(entry, answer) {
    if (answer && answer.error) {
      entry.reject(cellError(answer.error.code, answer.error.message, entry.call.caller_address));
    } else if (answer && Array.isArray(answer.result)) {
      entry.resolve(entry.matrix ? answer.result : answer.result[0][0]);
    } else {
      entry.reject(cellError("#N/A", "xlplan: the server sent no answer for this cell",
                             entry.call.caller_address));
    }
  }

  function headers() {
    var h = { "Content-Type": "application/json" };
    if (config.token) h.Authorization = "Bearer " + config.token;
    return h;
  }

  var encoder = typeof global.TextEncoder === "function" ? new global.TextEncoder() : null;

  /* Bytes of a call's JSON as sent (UTF-8), so a batch stays under maxBodyBytes. */
  function byteLength(text) {
    return encoder ? encoder.encode(text).length : 3 * text.length;
  }

  /* fetch, failing after timeoutMs: a server that accepts the connection but never
     answers must not leave cells busy for ever. */
  function post(path, body, timeoutMs) {
    var controller = typeof global.AbortController === "function" ? new global.AbortController()
                                                                   : null;
    var options = { method: "POST", headers: headers(), body: body };
    if (controller) options.signal = controller.signal;
    var timer = null;
    var timeout = new Promise(function (resolve, reject) {
      timer = setTimeout(function () {
        if (controller) controller.abort();
        reject(new Error("no answer within " + timeoutMs / 1000 + " s"));
      }, timeoutMs);
    });
    var answer = global.fetch(config.url + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (payload) {
        return { response: response, payload: payload };
      });
    });
    return Promise.race([answer, timeout]).then(
      function (value) { clearTimeout(timer); return value; },
      function (problem) { clearTimeout(timer); throw problem; });
  }

  function send(entries, isSlow) {
    stats.requests += 1;
    stats.calls += entries.length;
    var body = "{\"calls\":[" + entries.map(function (e) { return e.json; }).join(",") + "]}";
    return post("/batch", body, isSlow ? config.slowTimeoutMs : config.timeoutMs)
      .then(function (answer) {
        var payload = answer.payload;
        if (!answer.response.ok) {
          throw new Error(payload.error ? payload.error.message : "HTTP " + answer.response.status);
        }
        entries.forEach(function (entry, i) { settle(entry, payload.results[i]); });
      })
      .catch(function (problem) {
        entries.forEach(function (entry) {
          entry.reject(cellError("#N/A", "xlplan server at " + config.url + ": " +
                                 problem.message, entry.call.caller_address));
        });
      });
  }

  /* Send everything queued now, in requests of at most maxBatch calls and maxBodyBytes. */
  function flush() {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    var sent = [];
    var room = config.maxBodyBytes - 64;  // the {"calls":[...]} wrapper
    while (queue.length > 0) {
      var count = 0;
      var bytes = 0;
      while (count < queue.length && count < config.maxBatch &&
             (count === 0 || bytes + queue[count].bytes + 1 <= room)) {
        bytes += queue[count].bytes + 1;
        count += 1;
      }
      sent.push(send(queue.splice(0, count)));
    }
    return Promise.all(sent);
  }

  function enqueue(call, isMatrix, isSlow) {
    return new Promise(function (resolve, reject) {
      var json = JSON.stringify(call);
      var entry = { call: call, json: json, bytes: byteLength(json), matrix: isMatrix,
                    resolve: resolve, reject: reject };
      if (isSlow) { send([entry], true); return; }
      queue.push(entry);
      if (queue.length >= config.maxBatch) flush();
      else if (timer === null) timer = setTimeout(flush, config.batchWindowMs);
    });
  }

  function makeFunction(spec) {
    return function () {
      var values = Array.prototype.slice.call(arguments);
      var invocation = isInvocation(values[values.length - 1]) ? values.pop() : {};
      return enqueue({
        func_name: spec.name,
        args: callArguments(spec, values),
        caller_address: invocation.address || null,
        version: config.version,
        runtime: "Office.js",
        client: "xlplan-functions.js"
      }, spec.matrix, spec.slow);
    };
  }

  function register() {
    config.functions.forEach(function (spec) {
      global.CustomFunctions.associate(spec.id, makeFunction(spec));
    });
  }

  global.xlplan = { register: register, flush: flush, stats: stats, config: config };
  if (typeof global.CustomFunctions !== "undefined") register();
})(typeof globalThis !== "undefined" ? globalThis : this);
