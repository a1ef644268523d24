-- GET the authorization URL given to wrk (the server runs with --auto-approve) and
-- write the code of every redirect to OUT.<thread>, one per line.
-- usage: wrk -t N -s collect_codes.lua URL -- OUT
local next_id = 1
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  out = io.open(args[1] .. "." .. id, "w")
  out:setvbuf("line")
end

function response(status, headers, body)
  local location = headers["location"] or headers["Location"]
  local code = location and location:match("[?&]code=([^&]+)")
  if code then out:write(code, "\n") end
end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
