Code.require_file("task_root.exs", __DIR__)

defmodule LambdaRuntime.DxRuntime do
  @moduledoc false
  # The real runtime (bootstrap.sh) on the test handlers, against an emulator.

  alias LambdaRuntime.DxTaskRoot
  alias LambdaRuntime.Tools.Emulator.LocalRuntime

  @doc """
  Starts bootstrap.sh with `handler` against `emu`, function name
  "test-function", output discarded; `opts` override LocalRuntime's options.
  """
  def start(emu, handler, opts \\ []) do
    defaults = [
      handler: handler,
      task_root: DxTaskRoot.path(),
      function_name: "test-function",
      output: fn _ -> :ok end
    ]

    {:ok, runtime} = LocalRuntime.start(emu, Keyword.merge(defaults, opts))
    runtime
  end

  @doc "Like `start/3`, and stops the runtime when the test ends."
  def start!(emu, handler, opts \\ []) do
    runtime = start(emu, handler, opts)
    ExUnit.Callbacks.on_exit(fn -> LocalRuntime.stop(runtime) end)
    runtime
  end

  @doc "Waits until `fun` returns true (for a state another process reaches)."
  def wait_until(fun) do
    unless fun.() do
      Process.sleep(5)
      wait_until(fun)
    end
  end
end
