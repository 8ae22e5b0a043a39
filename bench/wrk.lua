-- wrk script of bench/run. Modes, after `--`:
--   get COOKIE [DELAY_MS]   GET the URL's path with a session cookie; with DELAY_MS, each
--                           connection waits that long between requests (a light probe)
--   page COOKIE             the same, counting each answer: ok200 must be every request
--                           (wrk itself counts a redirect to the sign-in page as a success)
--   login COOKIE TOKEN N    POST /login for bench-login-0..N-1@example.com in turn, all with
--                           one anonymous session's cookie and CSRF token
--   lines PREFIX            POST /login/two-factor, thread t sending the lines of PREFIX.t
--                           ("cookie<TAB>body") once each, in order
-- done() prints one line: RESULT key=value ..., which bench/run reads.

local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local requests = {}
local next_request = 1
local delay_ms = 0
local once = false
ok = 0
other = 0
other_status = 0
exhausted = 0

local password = "correct horse battery staple"

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function init(args)
  local mode = args[1]
  if mode == "get" then
    requests[1] = wrk.format("GET", nil, { ["Cookie"] = "twofold_session=" .. args[2] })
    delay_ms = tonumber(args[3] or "0")
    response = nil
  elseif mode == "page" then
    requests[1] = wrk.format("GET", nil, { ["Cookie"] = "twofold_session=" .. args[2] })
    page_mode = true
  elseif mode == "login" then
    local headers = {
      ["Cookie"] = "twofold_session=" .. args[2],
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }
    for i = 0, tonumber(args[4]) - 1 do
      local body = "csrf_token=" .. args[3] .. "&email=" ..
        urlencode("bench-login-" .. i .. "@example.com") .. "&password=" .. urlencode(password)
      requests[#requests + 1] = wrk.format("POST", "/login", headers, body)
    end
  elseif mode == "lines" then
    once = true
    local file = assert(io.open(args[2] .. "." .. id, "r"))
    for line in file:lines() do
      local cookie, body = line:match("^([^\t]+)\t(.+)$")
      if cookie then
        requests[#requests + 1] = wrk.format("POST", "/login/two-factor", {
          ["Cookie"] = "twofold_session=" .. cookie,
          ["Content-Type"] = "application/x-www-form-urlencoded",
        }, body)
      end
    end
    file:close()
  else
    error("unknown mode " .. tostring(mode))
  end
end

function delay()
  return delay_ms
end

function request()
  if next_request > #requests then
    if once then
      -- Out of prepared posts: the run is too long for the accounts prepared. Counted, and
      -- answered by something harmless until the thread stops.
      exhausted = exhausted + 1
      return wrk.format("GET", "/healthz")
    end
    next_request = 1
  end
  local r = requests[next_request]
  next_request = next_request + 1
  return r
end

-- Sign-in steps answer 303 when they succeed; a page, 200.
function response(status, headers, body)
  if exhausted > 0 then
    wrk.thread:stop()
    return
  end
  local wanted = page_mode and 200 or 303
  if status == wanted then
    ok = ok + 1
  else
    other = other + 1
    other_status = status
  end
end

function done(summary, latency, reqs)
  local sum_ok, sum_other, sum_exhausted, other_status = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    other_status = thread:get("other_status") or other_status
    sum_ok = sum_ok + (thread:get("ok") or 0)
    sum_other = sum_other + (thread:get("other") or 0)
    sum_exhausted = sum_exhausted + (thread:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.2f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "ok=%d other=%d other_status=%d exhausted=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    sum_ok, sum_other, other_status, sum_exhausted, e.connect, e.read, e.write, e.status, e.timeout))
end
