defmodule LambdaRuntime.Tools.Layer.Step do
  @moduledoc """
  Runs the long steps of a layer build (configure, compile, link) as OS
  commands: their output goes to a log file, the console gets one line
  when the step starts, a line with the elapsed time every 30 seconds,
  and one when it ends. A failed step raises `Mix.Error` with the end of
  its log and the log's path.
  """

  @heartbeat_ms 30_000
  @tail_lines 40

  @doc """
  Runs `command` with `args`. Options: `:cd`, `:env` (a list of
  `{name, value}`), `:log` (the log file, required; appended to).
  Returns the elapsed time in milliseconds.
  """
  @spec run!(String.t(), String.t(), [String.t()], keyword()) :: non_neg_integer()
  def run!(label, command, args, opts) do
    log = Keyword.fetch!(opts, :log)
    File.mkdir_p!(Path.dirname(log))
    File.write!(log, "$ #{Enum.join([command | args], " ")}\n", [:append])
    info("#{label} ...")
    started = System.monotonic_time(:millisecond)

    cmd_opts =
      [stderr_to_stdout: true, into: File.stream!(log, [:append])] ++
        Keyword.take(opts, [:cd, :env])

    command = executable!(command, opts[:cd])
    task = Task.async(fn -> System.cmd(command, args, cmd_opts) end)
    status = await(task, label, started)
    elapsed = System.monotonic_time(:millisecond) - started

    if status == 0 do
      info("#{label}: done in #{format_ms(elapsed)}")
      elapsed
    else
      Mix.raise("""
      #{label} failed (exit status #{status}) after #{format_ms(elapsed)}. \
      The end of its log (all of it in #{log}):

      #{tail(log)}
      """)
    end
  end

  # A relative path (./configure) is relative to the step's directory.
  defp executable!(command, cd) do
    path =
      if String.contains?(command, "/"),
        do: Path.expand(command, cd || File.cwd!()),
        else: System.find_executable(command)

    if path && File.regular?(path),
      do: path,
      else: Mix.raise("#{command} was not found#{if cd, do: " in #{cd}"}; it is needed to build")
  end

  defp await(task, label, started) do
    case Task.yield(task, @heartbeat_ms) do
      {:ok, {_, status}} ->
        status

      {:exit, reason} ->
        Mix.raise("#{label} could not run: #{inspect(reason)}")

      nil ->
        elapsed = System.monotonic_time(:millisecond) - started
        info("#{label}: #{format_ms(elapsed)} so far")
        await(task, label, started)
    end
  end

  @doc "Prints an indented progress line."
  def info(message), do: Mix.shell().info("    " <> message)

  @doc "Milliseconds as `42 s` or `3 min 05 s`."
  @spec format_ms(non_neg_integer()) :: String.t()
  def format_ms(ms) when ms < 60_000, do: "#{div(ms + 500, 1000)} s"

  def format_ms(ms) do
    s = div(ms + 500, 1000)
    "#{div(s, 60)} min #{String.pad_leading(Integer.to_string(rem(s, 60)), 2, "0")} s"
  end

  defp tail(log) do
    log
    |> File.read!()
    |> String.split("\n")
    |> Enum.take(-@tail_lines)
    |> Enum.join("\n")
  end
end
