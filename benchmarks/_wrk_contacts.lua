-- wrk script for benchmarks/api_load.py: POSTs a contact (or the same body to the bare endpoint)
-- as one of the seeded wijkcoaches, round robin; prints one JSON line of figures at the end.
local creds = {}
for line in io.lines(os.getenv("WRK_CREDS")) do
  local token, family = line:match("([^,]+),([^,]+)")
  creds[#creds + 1] = { token, family }
end
local url = os.getenv("WRK_MODE") == "contacts" and "/api/contacts/" or "/bench/bare/"
local kinds = { "phone", "home_visit", "video" }
local i = 0

request = function()
  i = i % #creds + 1
  local c = creds[i]
  local body = string.format(
    '{"family": %s, "occurred_at": "2024-05-01T10:00:00+02:00", "kind": "%s", '
      .. '"duration_minutes": %d, "initiated_by": "coach"}',
    c[2], kinds[i % 3 + 1], 5 + i % 80)
  return wrk.format("POST", url, {
    ["Authorization"] = "Token " .. c[1],
    ["Content-Type"] = "application/json",
  }, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
