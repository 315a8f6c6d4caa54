-- Requests for wrk, configured by the environment:
--   BENCH_PATHS   space-separated paths, cycled; "POST:/path" posts BENCH_BODY
--   BENCH_BODY    the form body of a POST (application/x-www-form-urlencoded)
--   BENCH_COOKIE  the Cookie header (a signed-in session)
--   BENCH_HEADER  one more header, "Name: value" (the poll's key)
-- At the end, one line "BENCH_JSON {...}" with the counts and latency percentiles.

local entries = {}
for item in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
  local method, path = "GET", item
  if string.sub(item, 1, 5) == "POST:" then
    method, path = "POST", string.sub(item, 6)
  end
  table.insert(entries, {method = method, path = path})
end
local body = os.getenv("BENCH_BODY") or ""
local cookie = os.getenv("BENCH_COOKIE") or ""
local extra = os.getenv("BENCH_HEADER") or ""

local prepared = {}
for i, entry in ipairs(entries) do
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  if extra ~= "" then
    local name, value = string.match(extra, "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  if entry.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    prepared[i] = wrk.format("POST", entry.path, headers, body)
  else
    prepared[i] = wrk.format("GET", entry.path, headers)
  end
end

local counter = 0
request = function()
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end

done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
end
