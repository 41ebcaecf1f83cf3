/*
 * bcryptprimitives.dll for Wine 8.0, which lacks it.
 *
 * Rust's standard library (1.78 and later) imports ProcessPrng from
 * bcryptprimitives.dll for its random numbers (HashMap keys); Wine 8.0 has
 * no such DLL, so every Rust .exe fails to start there with status
 * c0000135 (STATUS_DLL_NOT_FOUND). This DLL exports ProcessPrng and fills
 * the buffer with RtlGenRandom, which advapi32 exports as SystemFunction036
 * (learn.microsoft.com, "RtlGenRandom function"). ProcessPrng's contract:
 * BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData), always TRUE.
 *
 * Built and installed by tools/wine/install-shim.sh; used only to run the
 * Windows test suite under Wine in CI, never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
