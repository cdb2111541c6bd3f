defmodule LambdaRuntime.TestSupport.MixShell do
  @moduledoc """
  What Mix tasks print, in tests: `use_process_shell/0` (in a setup or a
  test) sends their lines to the test process until the test ends, and
  `output/0` returns the lines printed since its last call.
  """

  @doc "Mix's shell becomes `Mix.Shell.Process` until the test ends."
  def use_process_shell do
    Mix.shell(Mix.Shell.Process)
    ExUnit.Callbacks.on_exit(fn -> Mix.shell(Mix.Shell.IO) end)
  end

  @doc "The lines printed since the last call, joined with newlines."
  def output(acc \\ []) do
    receive do
      {:mix_shell, _, [line]} -> output([line | acc])
    after
      0 -> acc |> Enum.reverse() |> Enum.join("\n")
    end
  end
end
