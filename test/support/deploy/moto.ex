defmodule LambdaRuntime.TestSupport.Moto do
  @moduledoc """
  moto's AWS emulator (`.venv/bin/moto_server`, installed by
  scripts/setup.sh) on a free loopback port, for the deploy tests, plus the
  few calls tests make to it directly (IAM CreateRole, reset, reads).

      moto = Moto.start!()
      Moto.env(moto)   # AWS_* variables that point the AWS code at it
      Moto.stop(moto)
  """

  alias LambdaRuntime.AWS.{Credentials, Endpoint, Request, ServiceClient}
  alias LambdaRuntime.TestSupport.{HTTPServer, Paths, Wait}

  defstruct [:port, :os_pid, :http_port]

  @root Paths.root()
  @moto_server Path.join(@root, ".venv/bin/moto_server")

  @doc "Starts moto_server and waits until it answers."
  def start! do
    unless File.exists?(@moto_server) do
      raise "moto_server is not installed at #{@moto_server}; run scripts/setup.sh"
    end

    http_port = HTTPServer.free_port()

    port =
      Port.open({:spawn_executable, @moto_server}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: ["-H", "127.0.0.1", "-p", to_string(http_port)]
      ])

    {:os_pid, os_pid} = Port.info(port, :os_pid)
    moto = %__MODULE__{port: port, os_pid: os_pid, http_port: http_port}
    wait_until_ready(moto)
    moto
  end

  @doc "Stops moto_server."
  def stop(%__MODULE__{port: port, os_pid: os_pid}),
    do: LambdaRuntime.TestSupport.OsProcess.terminate(port, os_pid)

  @doc "The endpoint URL."
  def url(%__MODULE__{http_port: p}), do: "http://127.0.0.1:#{p}"

  @doc "Environment variables that point the AWS code at moto."
  def env(moto) do
    %{
      "AWS_ENDPOINT_URL" => url(moto),
      "AWS_ACCESS_KEY_ID" => "test",
      "AWS_SECRET_ACCESS_KEY" => "test",
      "AWS_REGION" => "us-east-1"
    }
  end

  @doc "Forgets every resource moto holds."
  def reset!(moto) do
    {:ok, {{_, 200, _}, _, _}} =
      :httpc.request(
        :post,
        {~c"#{url(moto)}/moto-api/reset", [], ~c"application/json", ""},
        [],
        []
      )

    :ok
  end

  @doc "Creates an IAM role Lambda may assume; returns its ARN."
  def create_role!(moto, name) do
    policy =
      ~s({"Version":"2012-10-17","Statement":[{"Effect":"Allow",) <>
        ~s("Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})

    body =
      URI.encode_query(%{
        "Action" => "CreateRole",
        "Version" => "2010-05-08",
        "RoleName" => name,
        "AssumeRolePolicyDocument" => policy
      })

    request = %Request{
      operation: "CreateRole",
      method: "POST",
      path: "/",
      body: {:raw, "application/x-www-form-urlencoded", body}
    }

    {:ok, 200, _} = ServiceClient.call(client(moto, "iam"), request)
    "arn:aws:iam::123456789012:role/#{name}"
  end

  @doc "Sends a Lambda API request to moto (for reading results back)."
  def lambda!(moto, request), do: ServiceClient.call(client(moto, "lambda"), request)

  @doc """
  Writes a function zip holding `Elixir.MODULE` (`handler_beam/2`) at
  `lib/APP/ebin/`, APP from the module's first segment; returns its bytes.
  """
  def handler_zip!(path, module \\ "Hello", tag \\ "v1") do
    app = module |> String.split(".") |> hd() |> Macro.underscore()
    zip!(path, [{"lib/#{app}/ebin/Elixir.#{module}.beam", handler_beam(module, tag)}])
  end

  @doc """
  A real beam of module `Elixir.MODULE` exporting `handle/2` (what the
  deploy's handler check looks for) and `tag/0` returning `tag` (so that
  two versions differ), compiled without loading it.
  """
  def handler_beam(module, tag) do
    mod = String.to_atom("Elixir." <> module)

    forms = [
      {:attribute, 1, :module, mod},
      {:attribute, 2, :export, [handle: 2, tag: 0]},
      {:function, 3, :handle, 2,
       [{:clause, 3, [{:var, 3, :_}, {:var, 3, :_}], [], [{:atom, 3, :ok}]}]},
      {:function, 4, :tag, 0,
       [
         {:clause, 4, [], [],
          [
            {:bin, 4,
             [{:bin_element, 4, {:string, 4, String.to_charlist(tag)}, :default, :default}]}
          ]}
       ]}
    ]

    {:ok, ^mod, bin} = :compile.forms(forms, [])
    bin
  end

  @doc "Writes a small zip of `files` (`[{name, content}]`) to `path`; returns the bytes."
  def zip!(path, files) do
    entries = Enum.map(files, fn {name, content} -> {String.to_charlist(name), content} end)
    {:ok, {_, bytes}} = :zip.create(~c"x.zip", entries, [:memory])
    File.mkdir_p!(Path.dirname(path))
    File.write!(path, bytes)
    bytes
  end

  @doc """
  Sets environment variables (a `nil` value unsets one) for the rest of the
  test; returns a function that puts the previous values back.
  """
  def put_env(vars) do
    previous = Map.new(vars, fn {k, _} -> {k, System.get_env(k)} end)
    Enum.each(vars, &set_env/1)
    fn -> Enum.each(previous, &set_env/1) end
  end

  defp set_env({k, nil}), do: System.delete_env(k)
  defp set_env({k, v}), do: System.put_env(k, v)

  defp client(moto, service) do
    {:ok, endpoint} = Endpoint.resolve(service, env(moto))
    {:ok, creds} = Credentials.resolve(env(moto))
    %ServiceClient{endpoint: endpoint, credentials: creds, backoff_ms: []}
  end

  defp wait_until_ready(moto) do
    {:ok, _} = Application.ensure_all_started(:inets)

    Wait.until(
      fn ->
        match?(
          {:ok, {{_, status, _}, _, _}} when status < 500,
          :httpc.request(:get, {~c"#{url(moto)}/moto-api/", []}, [timeout: 1_000], [])
        )
      end,
      timeout: 60_000,
      interval: 100,
      message: "moto_server did not start"
    )
  end
end
