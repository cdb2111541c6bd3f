defmodule LambdaRuntime.TestSupport.Zig do
  @moduledoc """
  `zig cc` for test programs built for a chosen architecture and glibc
  (e.g. `aarch64-linux-gnu.2.31`): zig on `PATH`, else the `ziglang` Python
  package of the project's `.venv` (`python -m ziglang`).

      Zig.cc!(source, "x86_64-linux-gnu.2.31", output)
  """

  @venv_python LambdaRuntime.TestSupport.Paths.root(".venv/bin/python")

  @doc "The command that runs zig (`[executable | args]`), or nil."
  def command do
    cond do
      zig = System.find_executable("zig") ->
        [zig]

      File.exists?(@venv_python) and
          match?(
            {_, 0},
            System.cmd(@venv_python, ["-m", "ziglang", "version"], stderr_to_stdout: true)
          ) ->
        [@venv_python, "-m", "ziglang"]

      true ->
        nil
    end
  end

  @doc "Compiles the C file `source` for `target` into `output`; raises with zig's message."
  def cc!(source, target, output) do
    [exe | args] =
      command() || raise "zig is needed for this test: pip install ziglang (into .venv)"

    {text, status} =
      System.cmd(exe, args ++ ["cc", "-target", target, "-O1", "-o", output, source],
        stderr_to_stdout: true
      )

    if status != 0, do: raise("zig cc -target #{target} #{source} failed:\n#{text}")
    output
  end
end
