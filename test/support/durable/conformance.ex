defmodule LambdaRuntime.TestSupport.Durable.Conformance do
  @moduledoc """
  Runs AWS's conformance requirements (`aws-durable-execution-conformance-tests`)
  against the fixture's handlers (`DurableFixture.Conformance`): a Stack with
  dex-local-runner (through `conformance/dex_runner.py`, in real time: with
  `--skip-time` the runner records a wait's end before the invocation that
  started it), and the package's validator driven by
  `conformance/run_conformance.py`. Requirements whose function crashes the
  runtime (it ends every invocation it runs) go last, one at a time.
  """

  alias LambdaRuntime.TestSupport.Durable.Stack

  @root LambdaRuntime.TestSupport.Paths.root()
  @dir LambdaRuntime.TestSupport.Paths.root("test/runtime/durable/conformance")

  # The functions whose handler exits the runtime process.
  @crashing ~w(1-17 1-18 3-12)

  # Chained-invoke targets (suite 5): durable functions of the fixture, so
  # that the runner starts a child execution for each invoke.
  @durable %{"DurableConfig" => %{"ExecutionTimeout" => 60, "RetentionPeriodInDays" => 1}}
  @targets %{"echo" => @durable, "fail" => @durable}

  def out_dir, do: Path.join(@root, "_build/durable-conformance")

  @doc "Runs `suites` (default all but plugin); returns the result entries."
  def run!(opts \\ []) do
    venv = Path.join(@root, ".venv-durable")
    python = Path.join(venv, "bin/python")

    unless File.exists?(python),
      do: raise("#{python} is missing: run scripts/install-durable-tools.sh")

    File.rm_rf!(out_dir())
    File.mkdir_p!(out_dir())
    log = Path.join(out_dir(), "runtime.log")

    stack =
      Stack.start!(
        skip_time: false,
        dex_command: [python, Path.join(@dir, "dex_runner.py")],
        function_configs: @targets,
        # One poller: a chained-invoke target then cannot finish before the
        # invocation that started it has answered (with several, the runner
        # sometimes records the child's completion first; the order the
        # requirements expect is the service's).
        concurrency: Keyword.get(opts, :concurrency, 1),
        log: log
      )

    try do
      suites =
        Keyword.get(
          opts,
          :suites,
          ~w(step wait child callback invoke wait_for_condition wait_for_callback parallel map)
        )

      only = Keyword.get(opts, :only, [])
      url = LambdaRuntime.Tools.Durable.Local.DexRunner.url(stack.dex)

      first = run_python(python, url, log, "main.json", suites, only, [], opts)
      crashing = if only == [], do: @crashing, else: Enum.filter(@crashing, &(&1 in only))
      main = Enum.reject(first, &(&1["id"] in @crashing))

      crash =
        if crashing == [],
          do: [],
          else:
            run_python(python, url, log, "crash.json", suites, crashing, ["--workers", "1"], opts)

      Enum.sort_by(main ++ crash, &sort_key(&1["id"]))
    after
      Stack.stop(stack)
    end
  end

  defp run_python(python, url, log, name, suites, only, extra, opts) do
    out = Path.join(out_dir(), name)
    workers = ["--workers", to_string(Keyword.get(opts, :workers, 8))]
    suite_args = Enum.flat_map(suites, &["--suite", &1])
    only = if name == "main.json", do: Enum.reject(only, &(&1 in @crashing)), else: only
    only_args = Enum.flat_map(only, &["--only", &1])

    args =
      [Path.join(@dir, "run_conformance.py"), url, log, out] ++
        suite_args ++ only_args ++ workers ++ extra

    {output, status} = System.cmd(python, args, stderr_to_stdout: true)
    File.write!(Path.join(out_dir(), name <> ".log"), output)
    if status != 0, do: raise("run_conformance.py failed (#{status}):\n#{output}")
    LambdaRuntime.JSON.decode!(File.read!(out))
  end

  def sort_key(id), do: id |> String.split("-") |> Enum.map(&String.to_integer/1)

  @doc "The markdown table of the results, with the reason for each known failure."
  def table(results, known) do
    rows =
      for r <- results do
        status = if r["passed"], do: "pass", else: "fail"

        why =
          if r["passed"],
            do: "",
            else:
              Map.get(
                known,
                r["id"],
                "unexpected: " <> Enum.join(Enum.take(r["errors"], 2), "; ")
              )

        "| #{r["id"]} | #{status} | #{why} |"
      end

    Enum.join(
      ["| requirement | result | why it fails locally |", "| --- | --- | --- |" | rows],
      "\n"
    ) <> "\n"
  end
end
