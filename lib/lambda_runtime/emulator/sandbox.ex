defmodule LambdaRuntime.Emulator.Sandbox do
  @moduledoc """
  The command that runs a layer's `/opt/bootstrap` in a Lambda-shaped
  sandbox, with bubblewrap (`bwrap`): the unpacked layer read-only at
  `/opt`, the unpacked function package read-only at `/var/task` (the
  working directory), a tmpfs `/tmp` as the only writable place, this
  machine's `/usr` and `/etc` read-only with its Erlang and Elixir hidden
  (so only the layer can provide them), only the given environment, a
  non-root user, and the host's loopback network for the Runtime API.

  `LambdaRuntime.Emulator.LocalRuntime` runs it with the `:sandbox` option.
  """

  # The uid and gid Lambda's sandbox user has.
  @uid "993"
  @gid "990"

  @doc "The bwrap executable, or nil when bubblewrap is not installed."
  @spec bwrap() :: String.t() | nil
  def bwrap, do: System.find_executable("bwrap")

  @doc """
  `[bwrap | args]` running `/opt/bootstrap` with `layer_dir` at `/opt`,
  `task_dir` at `/var/task` and exactly the variables in `env`.
  Option `:command`: what to run instead of `/opt/bootstrap`.
  """
  @spec command(Path.t(), Path.t(), [{String.t(), String.t()}], keyword()) :: [String.t()]
  def command(layer_dir, task_dir, env, opts \\ []) do
    bwrap = bwrap() || raise ArgumentError, "bwrap is not installed (apt-get install bubblewrap)"

    ([bwrap, "--unshare-all", "--share-net", "--die-with-parent", "--new-session"] ++
       system_dirs() ++
       [
         ["--ro-bind", Path.expand(layer_dir), "/opt"],
         ["--ro-bind", Path.expand(task_dir), "/var/task"],
         ["--tmpfs", "/usr/lib/erlang", "--tmpfs", "/usr/lib/elixir"],
         ["--remount-ro", "/", "--uid", @uid, "--gid", @gid, "--chdir", "/var/task"],
         ["--clearenv" | Enum.flat_map(env, fn {k, v} -> ["--setenv", k, to_string(v)] end)],
         [Keyword.get(opts, :command, "/opt/bootstrap")]
       ])
    |> List.flatten()
  end

  # A read-only system: /usr, /etc, and the top-level links or directories
  # of a merged-/usr layout.
  defp system_dirs do
    top =
      Enum.flat_map(~w(bin lib lib64 sbin), fn dir ->
        case File.read_link("/" <> dir) do
          {:ok, target} ->
            ["--symlink", target, "/" <> dir]

          {:error, _} ->
            if File.dir?("/" <> dir), do: ["--ro-bind", "/" <> dir, "/" <> dir], else: []
        end
      end)

    ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"] ++
      top ++
      [
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--dir",
        "/var/task",
        "--dir",
        "/opt"
      ]
  end
end
