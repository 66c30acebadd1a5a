-- wrk script shared by every run of bench/run.
--
-- With BENCH_PATHS set to a file of request targets (path and query, one per line), the
-- requests cycle through them, each connection taking the next one (the signed-URL
-- variant with 1,000 distinct URLs). A line may carry request headers after the target,
-- each after a tab ("/bench/obj-1g<TAB>Range: bytes=0-1023": the Range scenario).
-- Without BENCH_PATHS there is no request() function, so wrk keeps its fast path of one
-- pre-built request.
--
-- done() prints the summary as one line, "WRKJSON {...}", for `benchkit measure`.

local file = os.getenv("BENCH_PATHS")
if file and file ~= "" then
  local reqs = {}
  local i = 0
  init = function(args)
    for line in io.lines(file) do
      if line ~= "" then
        -- wrk.format replaces wrk.headers (wrk's -H) with a table it is given: copy them.
        local target, headers = nil, {}
        for name, value in pairs(wrk.headers) do
          headers[name] = value
        end
        for field in string.gmatch(line, "[^\t]+") do
          if not target then
            target = field
          else
            local name, value = string.match(field, "^([^:]+):%s*(.*)$")
            if not name then
              error("BENCH_PATHS " .. file .. ": bad header '" .. field .. "'")
            end
            headers[name] = value
          end
        end
        reqs[#reqs + 1] = wrk.format(nil, target, headers)
      end
    end
    if #reqs == 0 then
      error("BENCH_PATHS " .. file .. " has no request targets")
    end
  end
  request = function()
    i = i % #reqs + 1
    return reqs[i]
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"mean_us":%.1f,"latency_us":{"min":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.min, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
