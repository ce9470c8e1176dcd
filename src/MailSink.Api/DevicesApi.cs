using System.Text.Json;
using MailSink.Storage;

namespace MailSink.Api;

/// <summary>
/// <c>api/devices</c>: Mailosaur's virtual security devices. A device keeps a TOTP shared secret; its
/// current one-time password is computed here (<see cref="Totp"/>), as an authenticator app would.
/// </summary>
internal static class DevicesApi
{
    private const int MaxNameLength = 256;

    public static RouteGroupBuilder MapDevicesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/devices").WithTags("Devices");
        group.MapGet("/", List).WithName("ListDevices").WithSummary("Every virtual security device.");
        group.MapPost("/", Create).WithName("CreateDevice").WithSummary("Saves a device: a name and a base32 TOTP shared secret.")
            .Produces<DeviceDto>().Produces(StatusCodes.Status400BadRequest);
        group.MapDelete("/{id}", Delete).WithName("DeleteDevice");
        group.MapGet("/{id}/otp", DeviceOtp).WithName("GetDeviceOtp").WithSummary("The device's current one-time password.")
            .Produces<OtpDto>().Produces(StatusCodes.Status404NotFound);
        group.MapPost("/otp", SecretOtp).WithName("GetOtp").WithSummary("The current one-time password for a base32 shared secret.")
            .Produces<OtpDto>().Produces(StatusCodes.Status400BadRequest);
        return group;
    }

    private static async Task<IResult> List(IDeviceRepository devices, HttpContext context) =>
        TypedResults.Ok(new ListResultDto<DeviceDto>((await devices.ListAsync(context.RequestAborted)).Select(d => new DeviceDto(d.Id, d.Name)).ToList()));

    private static async Task<IResult> Create(IDeviceRepository devices, HttpRequest request)
    {
        var (body, bodyError) = await RequestBodies.ReadObjectAsync(request, "device", required: true);
        if (bodyError is not null)
            return bodyError;
        if (!RequestBodies.TryString(body!.Value, "name", out var name, out var error) || !TryOptionalSecret(body.Value, out var secret, out error))
            return error!;
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength)
            return ApiErrors.BadRequest("name", $"name must be 1 to {MaxNameLength} characters.");
        if (secret is null)
            return ApiErrors.BadRequest("sharedSecret", "sharedSecret must be the base32 secret an authenticator app would be given (the text form of the QR code's secret).");

        var device = await devices.CreateAsync(name.Trim(), secret, request.HttpContext.RequestAborted);
        return TypedResults.Ok(new DeviceDto(device.Id, device.Name));
    }

    private static async Task<IResult> Delete(IDeviceRepository devices, HttpContext context, string id) =>
        await devices.DeleteAsync(id, context.RequestAborted) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<IResult> DeviceOtp(IDeviceRepository devices, TimeProvider time, HttpContext context, string id)
    {
        if (await devices.GetAsync(id, context.RequestAborted) is not { } device || !Totp.TryDecodeBase32(device.SharedSecret, out var secret))
            return TypedResults.NotFound();
        return TypedResults.Ok(Otp(secret, time));
    }

    private static async Task<IResult> SecretOtp(TimeProvider time, HttpRequest request)
    {
        var (body, bodyError) = await RequestBodies.ReadObjectAsync(request, "sharedSecret", required: true);
        if (bodyError is not null)
            return bodyError;
        if (!TryOptionalSecret(body!.Value, out var secret, out var error))
            return error!;
        if (secret is null || !Totp.TryDecodeBase32(secret, out var bytes))
            return ApiErrors.BadRequest("sharedSecret", "sharedSecret must be a base32 secret (letters A-Z and digits 2-7).");
        return TypedResults.Ok(Otp(bytes, time));
    }

    private static OtpDto Otp(byte[] secret, TimeProvider time)
    {
        var (code, expires) = Totp.Compute(secret, time.GetUtcNow().ToUnixTimeSeconds());
        return new OtpDto(code, expires);
    }

    /// <summary>sharedSecret, normalised; null when absent. A value that is not base32 is a 400.</summary>
    private static bool TryOptionalSecret(JsonElement body, out string? secret, out IResult? error)
    {
        secret = null;
        if (!RequestBodies.TryString(body, "sharedSecret", out var text, out error))
            return false;
        if (text is null)
            return true;
        if (!Totp.TryDecodeBase32(text, out _))
        {
            error = ApiErrors.BadRequest("sharedSecret", "sharedSecret must be a base32 secret (letters A-Z and digits 2-7).");
            return false;
        }

        secret = Totp.Normalize(text);
        return true;
    }
}

public sealed record DeviceDto(string Id, string Name);

public sealed record OtpDto(string Code, DateTimeOffset Expires);
