/* The benchmark's reference host: what a perfect DfuSe host does to flash an image, and nothing
 * else. No file format, no device table, no memory map, no checks beyond the device's status:
 * the fewest requests (per DNLOAD of a command or a block, the DNLOAD and two GETSTATUS), each
 * wait exactly the bwPollTimeout the device declared, counted from its reply (a sleep to half a
 * millisecond before, then yielding the processor until the monotonic clock says it is over),
 * every request one USBDEVFS_CONTROL ioctl.
 * tests/usb-lab/bench-report sets dfuse and dfu-util against it: the distance from this host to
 * the floor is what the lab itself costs (process start, requests after a pause).
 *
 *   minimal-host DEVICE IMAGE ADDRESS SECTOR_ADDRESS...
 *
 * DEVICE is the board's usbfs node (/dev/bus/usb/BBB/DDD: no enumeration, that is the caller's),
 * the addresses are hexadecimal, the interface and its alternate setting are 0.
 *
 * Requests and states: DFU 1.1 (USB-IF) and ST's DfuSe extensions (docs/PROTOCOL.md). */
#include <errno.h>
#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

enum { DNLOAD = 1, GETSTATUS = 3, BLOCK = 2048, DNBUSY = 4, DNLOAD_IDLE = 5 };

static int fd;

static void fail(const char *what) {
    fprintf(stderr, "minimal-host: %s: %s\n", what, errno ? strerror(errno) : "unexpected reply");
    exit(1);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void control(uint8_t type, uint8_t request, uint16_t value, void *data, uint16_t length) {
    struct usbdevfs_ctrltransfer transfer = {
        .bRequestType = type, .bRequest = request, .wValue = value, .wIndex = 0,
        .wLength = length, .timeout = 5000, .data = data,
    };
    errno = 0;
    if (ioctl(fd, USBDEVFS_CONTROL, &transfer) != length) fail("control request");
}

/* A DNLOAD, then GETSTATUS until the device is idle again, waiting what it asks in between. */
static void dnload(uint16_t block, void *data, uint16_t length) {
    uint8_t status[6];
    control(0x21, DNLOAD, block, data, length);
    for (;;) {
        control(0xA1, GETSTATUS, 0, status, sizeof status);
        double reply = now_ms();
        errno = 0;
        if (status[0] != 0) fail("the device reports an error");
        if (status[4] == DNLOAD_IDLE) return;
        if (status[4] != DNBUSY) fail("unexpected state");
        double deadline = reply + (status[1] | status[2] << 8 | status[3] << 16);
        double asleep_ms = deadline - 0.5 - now_ms();
        if (asleep_ms > 0) {
            long ns = (long)(asleep_ms * 1e6);
            struct timespec pause = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
            nanosleep(&pause, NULL);
        }
        while (now_ms() < deadline) sched_yield();
    }
}

static void command(uint8_t code, uint32_t address) {
    uint8_t bytes[5] = {code, address, address >> 8, address >> 16, address >> 24};
    dnload(0, bytes, sizeof bytes);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: minimal-host DEVICE IMAGE ADDRESS SECTOR_ADDRESS...\n");
        return 2;
    }
    FILE *file = fopen(argv[2], "rb");
    if (!file) fail(argv[2]);
    static uint8_t image[16 << 20];
    size_t size = fread(image, 1, sizeof image, file);
    if (size == sizeof image || !feof(file)) fail("the image is over 16 MiB, or unreadable");
    fclose(file);
    fd = open(argv[1], O_RDWR);
    if (fd < 0) fail(argv[1]);
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake from sleep as exactly as the kernel can */
    unsigned int interface = 0;
    if (ioctl(fd, USBDEVFS_CLAIMINTERFACE, &interface) < 0) fail("claim interface 0");
    struct usbdevfs_setinterface alt = {.interface = 0, .altsetting = 0};
    if (ioctl(fd, USBDEVFS_SETINTERFACE, &alt) < 0) fail("alternate setting 0");
    for (int i = 4; i < argc; i++) command(0x41, strtoul(argv[i], NULL, 16));
    command(0x21, strtoul(argv[3], NULL, 16));
    for (size_t offset = 0; offset < size; offset += BLOCK) {
        size_t length = size - offset < BLOCK ? size - offset : BLOCK;
        dnload(2 + offset / BLOCK, image + offset, length);
    }
    return 0;
}
