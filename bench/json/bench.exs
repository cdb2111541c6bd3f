# LambdaRuntime.JSON (Rust NIF on dirty CPU schedulers) against :jiffy
# (Debian's erlang-jiffy; decode with [:return_maps], encode default) on a
# corpus of Lambda event shapes, generated 1 MB and 6 MB documents, a size
# sweep, the cost of a trivial call (the dirty-scheduler hop), memory per
# call, and a 1 ms ticker on a normal scheduler while 6 MB decodes run.
#
#   MIX_BUILD_ROOT=/tmp/build-bench mix run bench/json/bench.exs
#
# BENCH_QUICK=1 shortens every measurement; BENCH_JSON_OUT=FILE also writes
# the results as JSON (bench/run.sh uses both).

# Elixir 1.15+ prunes a Mix project's code paths to its dependency tree, and
# jiffy (Debian's package, installed with OTP) is not in lambda_runtime's;
# Elixir 1.14 leaves every installed application on the path.
if function_exported?(Mix, :ensure_application!, 1), do: Mix.ensure_application!(:jiffy)

Code.require_file("measure.exs", __DIR__)
Code.require_file("generate.exs", __DIR__)

defmodule JsonBench do
  alias JsonBench.{Generate, Measure}
  alias LambdaRuntime.JSON

  def run do
    # Other sessions on this shared machine have been seen to SIGTERM every
    # BEAM (a broad pkill); a benchmark half-way through should not die of it.
    :os.set_signal(:sigterm, :ignore)
    quick = System.get_env("BENCH_QUICK") in ["1", "true"]
    {batch_ms, batches, tick_ms} = if quick, do: {20, 3, 600}, else: {60, 7, 2000}
    Code.ensure_loaded!(:jiffy)
    IO.puts("schedulers #{System.schedulers_online()}, dirty CPU #{dirty_cpu()}, quick=#{quick}")

    corpus = corpus_docs()
    big = [{"generated_1mb", Generate.doc(1_000_000)}, {"generated_6mb", Generate.doc(6_000_000)}]
    docs = corpus ++ big

    throughput = Enum.map(docs, &throughput(&1, batch_ms, batches))
    print_throughput(throughput)

    sweep_docs =
      for size <- [100, 1_000, 4_000, 16_000, 64_000, 256_000],
          do: {"sweep_#{size}", Generate.doc(size)}

    sweep = Enum.map(sweep_docs, &throughput(&1, batch_ms, batches))

    print_throughput(sweep)
    hop = hop()
    encode_paths = encode_paths(sweep_docs, batch_ms, batches)
    IO.inspect(encode_paths, label: "encode: public API vs dirty NIF direct, calls/s")
    IO.inspect(hop, label: "trivial calls, ns each")
    memory = Enum.map(big ++ [hd(corpus)], &memory/1)
    IO.inspect(memory, label: "memory, bytes")
    {_, six} = List.last(big)
    ticker = ticker(six, tick_ms)
    IO.inspect(ticker, label: "1 ms ticker on a normal scheduler")

    result = %{
      schedulers: System.schedulers_online(),
      dirty_cpu_schedulers: dirty_cpu(),
      quick: quick,
      batch_ms: batch_ms,
      batches: batches,
      corpus: Enum.take(throughput, length(corpus)),
      large: Enum.drop(throughput, length(corpus)),
      sweep: sweep,
      trivial_call_ns: hop,
      encode_paths: encode_paths,
      memory: memory,
      ticker: ticker
    }

    case System.get_env("BENCH_JSON_OUT") do
      nil -> :ok
      path -> File.write!(path, JSON.encode!(result))
    end
  end

  defp dirty_cpu, do: :erlang.system_info(:dirty_cpu_schedulers_online)

  defp corpus_docs do
    Path.join(__DIR__, "corpus/*.json")
    |> Path.wildcard()
    |> Enum.sort()
    |> Enum.map(&{Path.basename(&1, ".json"), File.read!(&1)})
  end

  defp throughput({name, bin}, batch_ms, batches) do
    term = JSON.decode!(bin)
    same = term == :jiffy.decode(bin, [:return_maps])

    {dec_ours, dec_jiffy} =
      Measure.compare(
        fn -> JSON.decode!(bin) end,
        fn -> :jiffy.decode(bin, [:return_maps]) end,
        batch_ms,
        batches
      )

    {enc_ours, enc_jiffy} =
      Measure.compare(
        fn -> JSON.encode!(term) end,
        fn -> :jiffy.encode(term) end,
        batch_ms,
        batches
      )

    mb = byte_size(bin) / 1_000_000

    %{
      doc: name,
      bytes: byte_size(bin),
      same_decoded_term: same,
      decode_per_s: %{ours: round(dec_ours), jiffy: round(dec_jiffy)},
      decode_mb_s: %{ours: Float.round(dec_ours * mb, 1), jiffy: Float.round(dec_jiffy * mb, 1)},
      decode_ratio: Float.round(dec_ours / dec_jiffy, 2),
      encode_per_s: %{ours: round(enc_ours), jiffy: round(enc_jiffy)},
      encode_ratio: Float.round(enc_ours / enc_jiffy, 2)
    }
  end

  defp print_throughput(rows) do
    print_row(["doc", "bytes", "dec ours/s", "jiffy/s", "x", "enc ours/s", "jiffy/s", "x"])

    for r <- rows do
      print_row(
        [r.doc, r.bytes, r.decode_per_s.ours, r.decode_per_s.jiffy, r.decode_ratio] ++
          [r.encode_per_s.ours, r.encode_per_s.jiffy, r.encode_ratio]
      )
    end
  end

  # The first column left-aligned, the numbers right-aligned.
  @widths [22, 10, 12, 10, 6, 12, 10, 6]
  defp print_row([first | rest]) do
    [w | ws] = @widths
    cells = Enum.zip_with(rest, ws, &String.pad_leading("#{&1}", &2))
    IO.puts(Enum.join([String.pad_trailing("#{first}", w) | cells]))
  end

  # A trivial document costs almost nothing to parse, so its time is the
  # call itself. Where the NIF has explicit dirty variants (since 11a8096
  # LambdaRuntime.JSON picks the scheduler by size), calling them with a
  # trivial input measures the hop to a dirty CPU scheduler and back.
  defp hop do
    n = 50_000
    nif = LambdaRuntime.Native

    dirty =
      if function_exported?(nif, :json_decode_dirty, 1) do
        %{
          decode_1_ours_dirty_direct: fn -> nif.json_decode_dirty("1") end,
          encode_1_ours_dirty_direct: fn -> nif.json_encode_dirty(1) end
        }
      else
        %{}
      end

    %{
      decode_1_ours: fn -> JSON.decode!("1") end,
      decode_1_ours_nif_direct: fn -> nif.json_decode("1") end,
      decode_1_jiffy: fn -> :jiffy.decode("1", [:return_maps]) end,
      decode_small_ours: fn -> JSON.decode!(~s({"a":1})) end,
      decode_small_jiffy: fn -> :jiffy.decode(~s({"a":1}), [:return_maps]) end,
      encode_1_ours: fn -> JSON.encode!(1) end,
      encode_1_jiffy: fn -> :jiffy.encode(1) end,
      erlang_call_baseline: fn -> :erlang.phash2(1) end
    }
    |> Map.merge(dirty)
    |> Map.new(fn {k, f} -> {k, round(Measure.ns_per_call(f, n))} end)
  end

  # Encoding through the public API against straight to the dirty NIF, per
  # sweep size: shows what the normal-scheduler attempt costs when it gives
  # up (`:dirty`) on a large term and the work starts again.
  defp encode_paths(sweep_docs, batch_ms, batches) do
    nif = LambdaRuntime.Native

    if function_exported?(nif, :json_encode_dirty, 1) do
      for {name, bin} <- sweep_docs do
        term = JSON.decode!(bin)

        {api, dirty} =
          Measure.compare(
            fn -> JSON.encode!(term) end,
            fn -> nif.json_encode_dirty(term) end,
            batch_ms,
            batches
          )

        %{
          doc: name,
          bytes: byte_size(bin),
          api_per_s: round(api),
          dirty_direct_per_s: round(dirty)
        }
      end
    else
      []
    end
  end

  defp memory({name, bin}) do
    term = JSON.decode!(bin)

    %{
      doc: name,
      bytes: byte_size(bin),
      decode_ours: Measure.memory(fn -> JSON.decode!(bin) end),
      decode_jiffy: Measure.memory(fn -> :jiffy.decode(bin, [:return_maps]) end),
      encode_ours: Measure.memory(fn -> JSON.encode!(term) end),
      encode_jiffy: Measure.memory(fn -> :jiffy.encode(term) end)
    }
  end

  # The proof: one normal scheduler, one dirty CPU scheduler, one decoding
  # process. A decode that held the normal scheduler would stall the ticker
  # for a whole decode (tens of ms); jiffy yields every ~1 ms instead.
  # Then, for information, as many decoders as cores: every core is busy,
  # so the OS time-slices the ticker's thread whatever the VM does.
  defp ticker(six_mb, ms) do
    ours = fn -> JSON.decode!(six_mb) end
    jiffy = fn -> :jiffy.decode(six_mb, [:return_maps]) end
    normal = :erlang.system_flag(:schedulers_online, 1)
    dirty = :erlang.system_flag(:dirty_cpu_schedulers_online, 1)

    one =
      try do
        %{
          idle: Measure.ticker(fn -> :ok end, 0, ms),
          ours: Measure.ticker(ours, 1, ms),
          jiffy: Measure.ticker(jiffy, 1, ms)
        }
      after
        :erlang.system_flag(:schedulers_online, normal)
        :erlang.system_flag(:dirty_cpu_schedulers_online, dirty)
      end

    all = System.schedulers_online()

    %{
      doc_bytes: byte_size(six_mb),
      one_scheduler_one_decoder: one,
      all_cores_busy: %{
        workers: all,
        ours: Measure.ticker(ours, all, ms),
        jiffy: Measure.ticker(jiffy, all, ms)
      }
    }
  end
end

JsonBench.run()
