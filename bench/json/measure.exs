defmodule JsonBench.Measure do
  @moduledoc false
  # Timing, memory and scheduler-latency helpers for bench/json/bench.exs.

  @doc "Median calls/s of `a` and `b`, in interleaved batches of about `batch_ms`."
  def compare(a, b, batch_ms, batches) do
    ka = calibrate(a, batch_ms)
    kb = calibrate(b, batch_ms)

    {ra, rb} =
      Enum.reduce(1..batches, {[], []}, fn _, {ra, rb} ->
        {[rate(a, ka) | ra], [rate(b, kb) | rb]}
      end)

    {median(ra), median(rb)}
  end

  defp calibrate(fun, batch_ms) do
    fun.()
    {us, _} = :timer.tc(fun)
    max(1, ceil(batch_ms * 1000 / max(us, 1)))
  end

  defp rate(fun, k) do
    {us, _} = :timer.tc(fn -> repeat(fun, k) end)
    k * 1_000_000 / max(us, 1)
  end

  defp repeat(_fun, 0), do: :ok

  defp repeat(fun, k) do
    fun.()
    repeat(fun, k - 1)
  end

  @doc "Nanoseconds per call of `fun` over `n` calls (best of 3)."
  def ns_per_call(fun, n) do
    Enum.map(1..3, fn _ ->
      {us, _} = :timer.tc(fn -> repeat(fun, n) end)
      us * 1000 / n
    end)
    |> Enum.min()
  end

  @doc """
  Memory of one call of `fun`, run in a fresh process: the growth of that
  process's memory (heap and stack, garbage included), the growth of the
  VM's binary memory, and the flat size of the result in bytes.
  """
  def memory(fun) do
    parent = self()
    ref = make_ref()

    spawn(fn ->
      :erlang.garbage_collect()
      {:memory, p0} = Process.info(self(), :memory)
      b0 = :erlang.memory(:binary)
      result = fun.()
      {:memory, p1} = Process.info(self(), :memory)
      b1 = :erlang.memory(:binary)
      size = :erts_debug.flat_size(result) * :erlang.system_info(:wordsize)
      send(parent, {ref, %{process_bytes: p1 - p0, binary_bytes: b1 - b0, result_bytes: size}})
    end)

    receive do
      {^ref, m} -> m
    after
      60_000 -> raise "memory measurement timed out"
    end
  end

  @doc """
  Runs `work` in `workers` processes for `ms` milliseconds while a ticker
  process asks for a 1 ms timeout in a loop; returns the ticker's gaps
  (max, p99, count) in milliseconds and how many `work` calls completed.
  """
  def ticker(work, workers, ms) do
    parent = self()
    ticker = spawn(fn -> tick(System.monotonic_time(:microsecond), []) end)
    deadline = System.monotonic_time(:millisecond) + ms

    pids =
      for _ <- 1..workers//1 do
        spawn(fn -> send(parent, {:done, self(), work_until(work, deadline, 0)}) end)
      end

    calls =
      if workers == 0 do
        Process.sleep(ms)
        0
      else
        Enum.reduce(pids, 0, fn pid, acc ->
          receive do
            {:done, ^pid, n} -> acc + n
          end
        end)
      end

    send(ticker, {:stop, parent})

    gaps =
      receive do
        {:gaps, g} -> Enum.sort(g)
      end

    %{
      max_gap_ms: Float.round(List.last(gaps) / 1000, 2),
      p99_gap_ms: Float.round(percentile(gaps, 99) / 1000, 2),
      ticks: length(gaps),
      calls: calls,
      ms_per_call: if(calls > 0, do: Float.round(ms * workers / calls, 1))
    }
  end

  defp work_until(work, deadline, n) do
    if System.monotonic_time(:millisecond) >= deadline do
      n
    else
      work.()
      work_until(work, deadline, n + 1)
    end
  end

  defp tick(last, gaps) do
    receive do
      {:stop, parent} -> send(parent, {:gaps, gaps})
    after
      1 ->
        now = System.monotonic_time(:microsecond)
        tick(now, [now - last | gaps])
    end
  end

  def median(list), do: percentile(Enum.sort(list), 50)

  @doc "Nearest-rank percentile of a sorted list."
  def percentile([], _), do: nil

  def percentile(sorted, p) do
    rank = ceil(p / 100 * length(sorted))
    Enum.at(sorted, max(rank, 1) - 1)
  end
end
