defmodule LambdaRuntime.UserProject.PackageDeployTest do
  # A project that depends on lambda_runtime by path, as a user's does,
  # driven through the Mix tasks in their own VMs (`mix` subprocesses). On
  # Elixir 1.15+ Mix prunes such a VM's code path to the project's
  # dependencies, so this is where the deploy code finding :crypto, :ssl,
  # :public_key and :inets (none of them lambda_runtime dependencies) shows.
  use ExUnit.Case, async: true

  alias LambdaRuntime.AWS.Request
  alias LambdaRuntime.TestSupport.Moto
  alias LambdaRuntime.TestSupport.Fixture

  @moduletag :user_project
  @moduletag timeout: 300_000

  @root LambdaRuntime.TestSupport.Paths.root()
  @layer_arn "arn:aws:lambda:us-east-1:123456789012:layer:elixir-runtime:1"

  setup_all do
    dir =
      Path.join(System.tmp_dir!(), "lambda_user_project_#{System.unique_integer([:positive])}")

    File.rm_rf!(dir)
    File.mkdir_p!(Path.join(dir, "lib"))
    on_exit(fn -> File.rm_rf!(dir) end)

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule Shop.MixProject do
      use Mix.Project

      def project do
        [
          app: :shop,
          version: "0.1.0",
          elixir: "~> 1.14",
          deps: [{:lambda_runtime, path: #{inspect(@root)}}],
          lambda: [handler: "Shop.handle", function_name: "shop", region: "us-east-1"]
        ]
      end

      def application, do: [extra_applications: [:logger]]
    end
    """)

    File.write!(Path.join(dir, "lib/shop.ex"), """
    defmodule Shop do
      def handle(event, _context), do: {:ok, %{"got" => event}}
    end
    """)

    {output, status} = mix(dir, ["compile"])
    assert status == 0, output
    %{project: dir}
  end

  test "mix lambda.package writes the function zip", %{project: dir} do
    {output, status} = mix(dir, ["lambda.package"])
    assert status == 0, output
    zip = Path.join(dir, "_build/lambda/shop.zip")
    assert output =~ zip

    {:ok, entries} = :zip.list_dir(String.to_charlist(zip))
    names = for {:zip_file, name, _, _, _, _} <- entries, do: to_string(name)
    assert "lib/shop/ebin/Elixir.Shop.beam" in names
    assert "lib/shop/ebin/shop.app" in names
    refute Enum.any?(names, &String.starts_with?(&1, "lib/lambda_runtime"))
  end

  test "mix lambda.deploy --dry-run signs nothing, sends nothing, lists the requests", %{
    project: dir
  } do
    # A dry run builds nothing: it is given the package to read.
    {output, status} = mix(dir, ["lambda.package"])
    assert status == 0, output

    {output, status} =
      mix(dir, [
        "lambda.deploy",
        "--dry-run",
        "--zip",
        Path.join(dir, "_build/lambda/shop.zip"),
        "--layer-arn",
        @layer_arn,
        "--role",
        "arn:aws:iam::123456789012:role/shop"
      ])

    assert status == 0, output
    assert output =~ "Dry run: nothing is sent"
    assert output =~ "CreateFunction: POST /2015-03-31/functions"
    # The zip's SHA-256 (:crypto) in the request summary.
    assert output =~ ~r/ZipFile=<\d+ bytes, sha256 [0-9a-f]{64}>/
  end

  test "mix lambda.deploy against moto creates the function", %{project: dir} do
    moto = Moto.start!()
    on_exit(fn -> Moto.stop(moto) end)
    role = Moto.create_role!(moto, "shop-role")
    # A stand-in for the layer: what `mix lambda.package --layer` reads
    # from one (its applications and their versions).
    layer_zip = Path.join(dir, "stand-in-layer.zip")

    apps =
      for app <- [:kernel, :stdlib, :compiler, :elixir, :logger, :lambda_runtime],
          do: {"lib/#{app}-#{Application.spec(app, :vsn)}/ebin/#{app}.app", "{}"}

    # Its manifest, which deploy reads before uploading anything.
    manifest =
      LambdaRuntime.TestSupport.LayerZips.manifest_fields("x86_64")
      |> Map.merge(%{
        otp: LambdaRuntime.Tools.Layer.OtpSource.host_otp_version(),
        erts: LambdaRuntime.Tools.Layer.OtpSource.host_erts_version(),
        elixir: System.version()
      })
      |> LambdaRuntime.Tools.Layer.Manifest.new()
      |> LambdaRuntime.Tools.Layer.Manifest.encode()

    Moto.zip!(layer_zip, [
      {"bootstrap", "#!/bin/sh\n"},
      {LambdaRuntime.Tools.Layer.Manifest.file_name(), manifest} | apps
    ])

    env =
      Map.merge(Moto.env(moto), %{
        "AWS_CONFIG_FILE" => Path.join(dir, "none"),
        "AWS_SHARED_CREDENTIALS_FILE" => Path.join(dir, "none")
      })

    {output, status} = mix(dir, ["lambda.deploy", "--role", role, "--layer-zip", layer_zip], env)

    assert status == 0, output
    assert output =~ "Function ARN:"

    request = %Request{
      operation: "GetFunction",
      method: "GET",
      path: "/2015-03-31/functions/shop"
    }

    assert {:ok, 200, body} = Moto.lambda!(moto, request)
    assert body["Configuration"]["Handler"] == "Shop.handle"
    assert body["Configuration"]["Runtime"] == "provided.al2023"
    assert [%{"Arn" => layer}] = body["Configuration"]["Layers"]
    assert layer =~ ":layer:"
  end

  # `mix` in its own VM, MIX_ENV=prod, no AWS settings of this machine's.
  defp mix(dir, args, env \\ %{}) do
    env =
      Map.merge(
        %{
          "MIX_ENV" => "prod",
          "MIX_BUILD_ROOT" => nil,
          "MIX_BUILD_PATH" => nil,
          "PATH" => Fixture.path(),
          "AWS_PROFILE" => nil,
          "AWS_ENDPOINT_URL" => nil,
          "AWS_ENDPOINT_URL_LAMBDA" => nil,
          "AWS_ACCESS_KEY_ID" => nil,
          "AWS_SECRET_ACCESS_KEY" => nil,
          "AWS_SESSION_TOKEN" => nil
        },
        env
      )

    System.cmd("mix", args, cd: dir, env: Enum.to_list(env), stderr_to_stdout: true)
  end
end
