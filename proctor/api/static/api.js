/* What proctor's browser pages share: calling the JSON API, and showing its errors with
   their stable `code`. A page served by proctor gets this file inlined (proctor/api/routes/ui.py),
   so it works under any path prefix; a page opened from disk loads it from beside itself. */
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

  /** The JSON body of a call to `url`; an ApiError (network_error, or the API's own code) if it
      fails. `hint` is added to the network error's message. */
  async function request(url, options = {}, hint = '') {
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new ApiError(0, 'network_error', `cannot reach ${url} (${err.message})${hint}`);
    }
    const text = await response.text();
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

  return { ApiError, request, showMessage, clearMessage };
})();
