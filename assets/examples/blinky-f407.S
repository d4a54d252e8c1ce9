/* dfuse example firmware: blinks the four LEDs (PD12-PD15) of an STM32F4-Discovery.
 * Built by build.sh into blinky-f407.elf / .hex / .s19, and by `dfuse file convert` into .bin / .dfu. */
    .syntax unified
    .cpu cortex-m4
    .thumb

    .equ RCC_AHB1ENR, 0x40023830
    .equ GPIOD_MODER, 0x40020C00
    .equ GPIOD_ODR,   0x40020C14

    .section .isr_vector, "a"
    .word _stack_top            /* initial SP: top of the 128 KiB SRAM */
    .word Reset_Handler         /* reset vector (Thumb bit set by the assembler) */
    .word Default_Handler       /* NMI */
    .word Default_Handler       /* HardFault */
    .word Default_Handler       /* MemManage */
    .word Default_Handler       /* BusFault */
    .word Default_Handler       /* UsageFault */
    .word 0, 0, 0, 0
    .word Default_Handler       /* SVCall */
    .word Default_Handler       /* DebugMonitor */
    .word 0
    .word Default_Handler       /* PendSV */
    .word Default_Handler       /* SysTick */

    .text
    .thumb_func
    .global Reset_Handler
Reset_Handler:
    /* copy .data from flash to SRAM */
    ldr r0, =_sidata
    ldr r1, =_sdata
    ldr r2, =_edata
1:  cmp r1, r2
    bhs 2f
    ldr r3, [r0], #4
    str r3, [r1], #4
    b 1b
2:  /* enable the GPIOD clock */
    ldr r0, =RCC_AHB1ENR
    ldr r1, [r0]
    orr r1, r1, #(1 << 3)
    str r1, [r0]
    /* PD12..PD15 as outputs */
    ldr r0, =GPIOD_MODER
    ldr r1, [r0]
    bic r1, r1, #0xFF000000
    orr r1, r1, #0x55000000
    str r1, [r0]
    ldr r4, =GPIOD_ODR
    ldr r5, =blink_delay
loop:
    ldr r1, [r4]
    eor r1, r1, #0xF000
    str r1, [r4]
    ldr r2, [r5]
3:  subs r2, r2, #1
    bne 3b
    b loop

    .thumb_func
Default_Handler:
    b Default_Handler
    .ltorg

    .data
    .align 2
blink_delay:
    .word 2000000

    /* firmware identification block in flash sector 1, leaving a gap after the code */
    .section .fw_info, "a"
    .align 2
    .ascii "DFUS"               /* magic */
    .word 0x00010002            /* version 1.2 */
    .word Reset_Handler
    .asciz "dfuse example blinky for STM32F407"
    .align 2
