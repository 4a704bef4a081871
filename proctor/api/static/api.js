/* What proctor's browser pages share: calling the JSON API (with a timeout, and the tab's API
   key), and showing its errors with their stable `code`. A page served by proctor gets this file
   inlined (proctor/api/routes/ui.py), so it works under any path prefix; a page opened from disk
   loads it from beside itself. */
'use strict';

window.ProctorApi = (() => {
  class ApiError extends Error {
    constructor(status, code, detail) {
      super(detail);
      this.status = status;
      this.code = code;
    }
  }

  /** FastAPI's 422 detail is a list of {loc, msg}; proctor's own errors are a string. */
  function describeDetail(detail) {
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => {
        if (!d || typeof d !== 'object') return String(d);
        const loc = Array.isArray(d.loc) ? d.loc.filter((p) => p !== 'body').join('.') : '';
        return loc ? `${loc}: ${d.msg}` : String(d.msg ?? JSON.stringify(d));
      }).join('; ');
    }
    return JSON.stringify(detail);
  }

  /** How long a call may take, its answer included, unless the caller says otherwise: a stalled
      or dead server must not leave a page waiting forever. */
  const DEFAULT_TIMEOUT_MS = 30000;
  /** The API key lives in sessionStorage only: it goes with this tab, never to disk for later. */
  const KEY_STORAGE = 'proctor.apiKey';

  function apiKey() {
    return window.sessionStorage.getItem(KEY_STORAGE) ?? '';
  }

  function setApiKey(key) {
    if (key) window.sessionStorage.setItem(KEY_STORAGE, key);
    else window.sessionStorage.removeItem(KEY_STORAGE);
  }

  /** The JSON body of a call to `url` (a Blob with `options.as = 'blob'`: an image an
      <img src> could not fetch with the key); an ApiError if it fails: the API's own code, or
      network_error, or timeout (no complete answer within `options.timeoutMs`, then the call is
      aborted). `hint` is added to those two messages. The API key, when one is set, goes along
      as X-API-Key. */
  async function request(url, options = {}, hint = '') {
    const { timeoutMs = DEFAULT_TIMEOUT_MS, as = 'json', ...init } = options;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const headers = new Headers(init.headers);
    const key = apiKey();
    if (key) headers.set('X-API-Key', key);
    let response;
    let text;
    try {
      response = await fetch(url, { ...init, headers, signal: controller.signal });
      if (response.ok && as === 'blob') return await response.blob();
      text = await response.text();
    } catch (err) {
      throw controller.signal.aborted
        ? new ApiError(0, 'timeout', `no answer from ${url} within ${timeoutMs / 1000} s${hint}`)
        : new ApiError(0, 'network_error', `cannot reach ${url} (${err.message})${hint}`);
    } finally {
      clearTimeout(timer);
    }
    let body = null;
    if (text) {
      try { body = JSON.parse(text); } catch { body = null; }
    }
    if (!response.ok) {
      const code = body && typeof body.code === 'string' ? body.code
        : response.status === 422 ? 'validation_error' : `http_${response.status}`;
      const detail = body && 'detail' in body ? describeDetail(body.detail)
        : (text.slice(0, 300) || response.statusText);
      throw new ApiError(response.status, code, detail);
    }
    return body;
  }

  /** Shows `text` (and the error's status and code, when it is an ApiError) in `target`. */
  function showMessage(target, kind, text, err) {
    target.textContent = '';
    target.className = `msg ${kind}`;
    if (err instanceof ApiError) {
      target.dataset.code = err.code;
      target.dataset.status = String(err.status);
      const code = document.createElement('code');
      code.textContent = err.code;
      target.append(`${text} (${err.status ? `HTTP ${err.status}, ` : ''}`, code, `): ${err.message}`);
    } else {
      delete target.dataset.code;
      delete target.dataset.status;
      target.textContent = err ? `${text}: ${err.message || err}` : text;
    }
  }

  function clearMessage(target) {
    target.textContent = '';
    target.className = 'msg';
    delete target.dataset.code;
    delete target.dataset.status;
  }

  return { ApiError, request, apiKey, setApiKey, showMessage, clearMessage };
})();
