defmodule Mix.Tasks.Compile.LambdaBoot do
  @shortdoc "Writes the boot script bootstrap.sh uses in a development checkout"
  @moduledoc """
  Writes `lambda-erts-VSN.boot` into the `:lambda_runtime` application's
  build directory (`_build/ENV/lib/lambda_runtime/`), for `bootstrap.sh`
  started with the machine's own Erlang and Elixir (a development
  checkout, `mix lambda.invoke`, the tests). Like the layer's
  `bin/lambda.boot` (`LambdaRuntime.Tools.Layer.BootScript`), it loads the OTP
  and Elixir modules the runtime needs before its first `/next` in
  batches, from known directories, instead of one search of the code path
  each (measured: ~175 -> ~125 ms to the first `/next`).

  It runs after the Elixir compiler of the `:lambda_runtime` project (also
  when that project is a dependency) and rewrites the file only when its
  content changes. The name carries the ERTS version it was written for:
  `bootstrap.sh` ignores it under another ERTS and boots with OTP's
  `no_dot_erlang.boot`.
  """
  use Mix.Task.Compiler

  @impl true
  def run(_args) do
    out = Path.join(Mix.Project.app_path(), LambdaRuntime.Tools.Layer.BootScript.dev_file_name())
    tmp = "#{out}.#{System.unique_integer([:positive])}.tmp"

    try do
      LambdaRuntime.Tools.Layer.BootScript.write_dev!(tmp)

      if File.exists?(out) and File.read!(out) == File.read!(tmp) do
        # Still current: dated now, since bootstrap.sh skips a boot script
        # older than the Elixir install (an in-place upgrade).
        File.touch!(out)
        {:noop, []}
      else
        File.rename!(tmp, out)
        {:ok, []}
      end
    rescue
      # Only a speed-up for bootstrap.sh in a checkout: never a reason for
      # a project that depends on lambda_runtime not to compile.
      error ->
        File.rm(out)

        Mix.shell().info(
          "lambda_runtime: no development boot script (#{Exception.message(error)}); " <>
            "bootstrap.sh will boot with OTP's no_dot_erlang.boot"
        )

        {:noop, []}
    after
      File.rm(tmp)
    end
  end
end
