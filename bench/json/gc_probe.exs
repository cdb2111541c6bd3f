# After a 6 MB decode: how long the first GC of the decoded term takes, how
# much memory the process holds before and after it, and the largest gap of
# a 1 ms ticker on the only normal scheduler while a decode and its GC run.
#
#   MIX_BUILD_ROOT=/tmp/build-bench mix run bench/json/gc_probe.exs
Code.require_file("generate.exs", __DIR__)
bin = JsonBench.Generate.doc(6_000_000)

for _ <- 1..3 do
  parent = self()

  spawn(fn ->
    {t_dec, r} = :timer.tc(fn -> LambdaRuntime.JSON.decode!(bin) end)
    {:memory, m1} = Process.info(self(), :memory)
    {t_gc, _} = :timer.tc(fn -> :erlang.garbage_collect() end)
    {:memory, m2} = Process.info(self(), :memory)
    send(parent, {:r, t_dec, m1, t_gc, m2, map_size(r)})
  end)

  receive do
    {:r, dec, m1, gc, m2, _} ->
      IO.puts(
        "decode #{div(dec, 1000)} ms, process memory #{div(m1, 1_000_000)} MB, " <>
          "first GC #{div(gc, 1000)} ms, then #{div(m2, 1_000_000)} MB"
      )
  end
end

:erlang.system_flag(:schedulers_online, 1)
:erlang.system_flag(:dirty_cpu_schedulers_online, 1)

tick = fn tick, last, max_gap ->
  receive do
    {:stop, pid} -> send(pid, {:max_gap, max_gap})
  after
    1 ->
      now = System.monotonic_time(:microsecond)
      tick.(tick, now, max(max_gap, now - last))
  end
end

ticker = spawn(fn -> tick.(tick, System.monotonic_time(:microsecond), 0) end)
Process.sleep(50)

spawn(fn ->
  term = LambdaRuntime.JSON.decode!(bin)
  :erlang.garbage_collect()
  map_size(term)
end)

Process.sleep(400)
send(ticker, {:stop, self()})

receive do
  {:max_gap, gap} ->
    IO.puts("ticker max gap during decode + GC: #{Float.round(gap / 1000, 1)} ms")
end
