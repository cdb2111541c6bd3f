defmodule LambdaRuntime.DxTaskRoot do
  @moduledoc false
  # A LAMBDA_TASK_ROOT for the tests: lib/lambda_runtime is this build of
  # the runtime (a link), lib/dx_handlers/ebin holds the handlers above.
  # Built once per test run; the handler modules are loaded here too.

  @source Path.expand("dx_handlers.ex", __DIR__)

  def path do
    :persistent_term.get({__MODULE__, :path}, nil) || build()
  end

  defp build do
    :global.trans({__MODULE__, self()}, fn ->
      case :persistent_term.get({__MODULE__, :path}, nil) do
        nil ->
          root = Path.join(System.tmp_dir!(), "dx_task_root_#{System.pid()}")
          ebin = Path.join(root, "lib/dx_handlers/ebin")
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
