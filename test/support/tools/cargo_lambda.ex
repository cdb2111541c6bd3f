defmodule LambdaRuntime.TestSupport.CargoLambda do
  @moduledoc """
  cargo-lambda's Runtime API emulator (`cargo lambda watch --only-lambda-apis`)
  on a free loopback port, for end-to-end tests.

      emu = CargoLambda.start!()
      runtime = RuntimeProcess.start!(emu, "Hello.handle")
      {200, body} = CargoLambda.invoke(emu, ~s({"name":"Ada"}))
      CargoLambda.stop(emu)
  """

  defstruct [:port, :os_pid, :http_port]

  @root LambdaRuntime.TestSupport.Paths.root()
  @cargo_lambda Path.join(@root, ".venv/bin/cargo-lambda")
  @project LambdaRuntime.TestSupport.Paths.fixture("cargo_lambda_project")

  @doc "Starts the emulator and waits until it accepts connections."
  def start!(opts \\ []) do
    unless File.exists?(@cargo_lambda) do
      raise "cargo-lambda is not installed at #{@cargo_lambda}; run scripts/setup.sh"
    end

    http_port = free_port()
    extra = Keyword.get(opts, :args, [])

    args =
      ["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", to_string(http_port)] ++
        extra

    port =
      Port.open({:spawn_executable, @cargo_lambda}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: args,
        cd: @project,
        env: [
          {~c"PATH",
           String.to_charlist(Path.dirname(@cargo_lambda) <> ":" <> System.get_env("PATH"))}
        ]
      ])

    {:os_pid, os_pid} = Port.info(port, :os_pid)
    emu = %__MODULE__{port: port, os_pid: os_pid, http_port: http_port}
    wait_until_listening(http_port, 200)
    emu
  end

  @doc "The value to give the runtime as `AWS_LAMBDA_RUNTIME_API`."
  def runtime_api(%__MODULE__{http_port: p}), do: "http://127.0.0.1:#{p}/.rt"

  @doc "Invokes the function synchronously; returns `{status, body}`."
  def invoke(%__MODULE__{http_port: p}, body, timeout \\ 30_000) do
    {:ok, _} = Application.ensure_all_started(:inets)
    url = ~c"http://127.0.0.1:#{p}/2015-03-31/functions/_/invocations"

    {:ok, {{_, status, _}, _headers, resp}} =
      :httpc.request(:post, {url, [], ~c"application/json", body}, [timeout: timeout],
        body_format: :binary
      )

    {status, resp}
  end

  @doc "Stops the emulator."
  def stop(%__MODULE__{port: port, os_pid: os_pid}) do
    System.cmd("kill", ["-TERM", to_string(os_pid)], stderr_to_stdout: true)

    receive do
      {^port, {:exit_status, _}} -> :ok
    after
      5_000 -> System.cmd("kill", ["-KILL", to_string(os_pid)], stderr_to_stdout: true)
    end

    :ok
  end

  @doc false
  def free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  defp wait_until_listening(port, 0), do: raise("the emulator did not start listening on #{port}")

  defp wait_until_listening(port, tries) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
      {:ok, socket} ->
        :gen_tcp.close(socket)

      {:error, _} ->
        Process.sleep(50)
        wait_until_listening(port, tries - 1)
    end
  end
end
