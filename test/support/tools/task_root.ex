defmodule LambdaRuntime.TestSupport.TaskRoot do
  @moduledoc """
  A `LAMBDA_TASK_ROOT` for the tests of the local tooling, and the real
  runtime (`bootstrap.sh`) started on it against
  `LambdaRuntime.Tools.Emulator`.

  The task root holds this build of the runtime (`lib/lambda_runtime`, a
  link) and the handlers of `test/fixtures/task_root/handlers.ex`
  (`lib/task_root_handlers/ebin`). It is built once per test run; the
  handler modules are loaded into the test VM too.
  """

  alias LambdaRuntime.TestSupport.Paths
  alias LambdaRuntime.Tools.Emulator.LocalRuntime

  @source Paths.fixture("task_root/handlers.ex")

  @doc "The task root's path (built on first use)."
  def path do
    :persistent_term.get({__MODULE__, :path}, nil) || build()
  end

  @doc """
  Starts bootstrap.sh with `handler` against `emu`, function name
  "test-function", output discarded; `opts` override LocalRuntime's options.
  """
  def start_runtime(emu, handler, opts \\ []) do
    defaults = [
      handler: handler,
      task_root: path(),
      function_name: "test-function",
      output: fn _ -> :ok end
    ]

    {:ok, runtime} = LocalRuntime.start(emu, Keyword.merge(defaults, opts))
    runtime
  end

  @doc "Like `start_runtime/3`, and stops the runtime when the test ends."
  def start_runtime!(emu, handler, opts \\ []) do
    runtime = start_runtime(emu, handler, opts)
    ExUnit.Callbacks.on_exit(fn -> LocalRuntime.stop(runtime) end)
    runtime
  end

  defp build do
    :global.trans({__MODULE__, self()}, fn ->
      case :persistent_term.get({__MODULE__, :path}, nil) do
        nil ->
          root = Path.join(System.tmp_dir!(), "task_root_#{System.pid()}")
          ebin = Path.join(root, "lib/task_root_handlers/ebin")
          File.rm_rf!(root)
          File.mkdir_p!(ebin)
          File.ln_s!(Application.app_dir(:lambda_runtime), Path.join(root, "lib/lambda_runtime"))
          # Also loads the modules into this VM.
          {:ok, _modules, _warnings} = Kernel.ParallelCompiler.compile_to_path([@source], ebin)
          :persistent_term.put({__MODULE__, :path}, root)
          ExUnit.after_suite(fn _ -> File.rm_rf(root) end)
          root

        root ->
          root
      end
    end)
  end
end
