-- GET the URL given to wrk; report with report.lua.
-- usage: wrk -s get.lua URL -- BENCH_DIR
function init(args) end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
